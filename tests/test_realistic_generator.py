"""The realistic mixture generator (benchmarks/bagel_bench/realistic.py): deterministic, made of
real source text only, and a tiny corpus runs end to end through the v0.2 recipe with every
component loading rows and few rejected."""

from __future__ import annotations

import hashlib
import sys
from pathlib import Path

import pyarrow.parquet as pq
import pytest

BENCHMARKS = Path(__file__).resolve().parents[1] / "benchmarks"
RECIPE = Path(__file__).resolve().parents[1] / "recipes" / "bagel-v0.2.toml"
sys.path.insert(0, str(BENCHMARKS))

from bagel_bench import realistic  # noqa: E402

from bagel_core.config import RunConfig, load_recipe  # noqa: E402
from bagel_core.pipeline import run  # noqa: E402
from bagel_core.registry import load_plugins  # noqa: E402

ITEMS = 4000


def _hashes(root: Path) -> dict[str, str]:
    return {
        str(p.relative_to(root)): hashlib.sha256(p.read_bytes()).hexdigest()
        for p in sorted(root.rglob("*"))
        if p.is_file()
    }


@pytest.fixture(scope="module")
def corpus(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, dict]:
    root = tmp_path_factory.mktemp("realistic")
    return root, realistic.generate(root, RECIPE, ITEMS, seed=1)


def test_every_component_of_the_recipe_gets_rows_at_its_share(corpus):
    root, summary = corpus
    values = load_recipe(RECIPE)
    assert set(summary["rows"]) == set(values["sources"]) | set(values["dpo"])
    assert set(realistic.ROWS) >= set(summary["rows"])
    slimorca = sum(summary["rows"]["slimorca"].values())
    assert slimorca == round(realistic.ROWS["slimorca"].rows * ITEMS / realistic.FULL)
    assert slimorca > sum(summary["rows"]["mmlu"].values()) > sum(summary["rows"]["boolq"].values())
    # Held-out splits are the plugins' samples, untouched: benchmark sets index them.
    arc = (
        Path(load_plugins().get("source", "ai2_arc").cls.sample_root)
        / "allenai/ai2_arc/ARC-Challenge/test-00000-of-00001.parquet"
    )
    assert (root / "allenai/ai2_arc/ARC-Challenge/test-00000-of-00001.parquet").read_bytes() == arc.read_bytes()


def test_text_is_real_source_text_and_the_same_seed_gives_the_same_files(corpus, tmp_path, shared_data):
    root, summary = corpus
    assert realistic.SHARED == shared_data / "sources"
    text = realistic.RealText()
    rows = pq.read_table(root / "cais/mmlu/all/auxiliary_train-00000-of-00001.parquet").to_pylist()
    # Answer options of four words or more are real options (shorter ones, labels and numbers,
    # stay as the template has them).
    long = [option for row in rows for option in row["choices"] if len(option.split()) >= 4]
    assert long and all(option in text.options for option in long)
    boolq = pq.read_table(root / "google/boolq/data/train-00000-of-00001.parquet").to_pylist()
    assert all(any(s in row["passage"] for s in text.sentences) for row in boolq)
    again = tmp_path / "again"
    assert realistic.generate(again, RECIPE, ITEMS, seed=1) == summary
    first, second = _hashes(root), _hashes(again)
    first.pop("realistic.json"), second.pop("realistic.json")
    assert first == second


def test_a_tiny_corpus_runs_end_to_end_through_the_v02_recipe(corpus, tmp_path):
    root, summary = corpus
    values = load_recipe(RECIPE)
    values["decontaminate"] = "none"  # the recipe's transformer is not needed to compose
    values["options"].setdefault("source", {}).setdefault("cinematika", {})["tokenizer"] = "approx"  # offline
    manifest = run(RunConfig(data_root=root, out=tmp_path / "out", **values), load_plugins(), quiet=True).manifest.to_json()
    assert set(manifest["sources"]) == set(summary["rows"])
    # Every component loads rows (none silently empty), and the templates are the samples
    # without their deliberate defects: few rows are rejected (those left: a bad answer index,
    # an APPS problem without a solution, as upstream has some).
    assert [name for name, counts in manifest["sources"].items() if counts["loaded"] == 0] == []
    rejected = sum(sum(counts["rejected"].values()) for counts in manifest["sources"].values())
    assert rejected < 0.05 * manifest["totals"]["loaded"], {
        n: c["rejected"] for n, c in manifest["sources"].items() if c["rejected"]
    }
    written = sum(sum(files.values()) for files in summary["rows"].values())
    assert 0.5 * written < manifest["totals"]["loaded"] + manifest["totals"]["duplicates"] <= 2 * written
    assert manifest["totals"]["sft_rows"] > 0 and manifest["totals"]["dpo_rows"] > 0
    # Rows are distinct as upstream rows are: the dedup stage removes a minority.
    assert manifest["totals"]["duplicates"] < 0.2 * manifest["totals"]["loaded"]
