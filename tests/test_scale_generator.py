"""The scale benchmark's data generator: deterministic, and a small corpus runs end to end with
exactly the counts it planted (duplicates across sources removed in priority order, refusals
filtered where a source filters them)."""

from __future__ import annotations

import hashlib
import json
import sys
from pathlib import Path

import pytest

BENCHMARKS = Path(__file__).resolve().parents[1] / "benchmarks"
sys.path.insert(0, str(BENCHMARKS))

from bagel_bench.generator import DATASETS, FILES, expected_counts, generate, source_sizes  # noqa: E402
from bagel_bench.harness import selection  # noqa: E402
from bagel_bench.text import REFUSALS, TextPool  # noqa: E402

from bagel_core import is_refusal  # noqa: E402
from bagel_core.config import RunConfig  # noqa: E402
from bagel_core.pipeline import run  # noqa: E402
from bagel_core.registry import load_plugins  # noqa: E402

ITEMS = 3000


def _hashes(root: Path) -> dict[str, str]:
    return {
        str(p.relative_to(root)): hashlib.sha256(p.read_bytes()).hexdigest()
        for p in sorted(root.rglob("*"))
        if p.is_file()
    }


@pytest.fixture(scope="module")
def corpus(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, dict]:
    root = tmp_path_factory.mktemp("scale-data")
    return root, generate(root, ITEMS, seed=3)


def test_sizes_follow_upstream_shares_and_sum_to_the_total():
    sizes = source_sizes(1_000_000)
    assert sum(sizes.values()) == 1_000_000
    assert sizes["slimorca"] > sizes["mathinstruct"] > sizes["ultrafeedback"] > sizes["airoboros"] > sizes["helpsteer"]


def test_planted_refusals_match_both_pattern_sets_and_plain_text_matches_none():
    for phrase in REFUSALS:
        assert is_refusal(phrase, "v0.2") and is_refusal(phrase, "head"), phrase
    import numpy as np

    texts = TextPool(5, words=200_000).texts(np.random.default_rng(0), 400, 80, 1.0)
    assert not [t for t in texts if is_refusal(t, "v0.2") or is_refusal(t, "head")]


def test_same_seed_gives_identical_files_and_another_seed_differs(corpus, tmp_path):
    root, plan = corpus
    again, other = tmp_path / "again", tmp_path / "other"
    assert generate(again, ITEMS, seed=3) == plan
    generate(other, ITEMS, seed=4)
    first = _hashes(root)
    assert set(first) == {f"{DATASETS[s]}/{FILES[s]}" for s in DATASETS} | {"expected.json"}
    assert _hashes(again) == first
    differing = {k for k, v in _hashes(other).items() if first[k] != v}
    assert differing == set(first)


def test_upstream_layout_is_what_the_datasets_library_reads(corpus):
    root, plan = corpus
    slimorca = json.loads((root / DATASETS["slimorca"] / FILES["slimorca"]).read_text().splitlines()[0])
    assert [t["from"] for t in slimorca["conversations"]] == ["system", "human", "gpt"]
    assert [t["weight"] for t in slimorca["conversations"]] == [None, 0.0, 1.0]
    math = json.loads((root / DATASETS["mathinstruct"] / FILES["mathinstruct"]).read_text())
    assert len(math) == plan["planted"]["mathinstruct"]["rows"] and set(math[0]) == {"source", "output", "instruction"}
    airoboros = json.loads((root / DATASETS["airoboros"] / FILES["airoboros"]).read_text())
    assert {len(r["conversations"]) for r in airoboros} > {2, 3}  # single- and multi-turn, with system turns
    assert sum(len(r["conversations"]) // 2 for r in airoboros) == plan["planted"]["airoboros"]["gpt_turns"]


def test_small_corpus_runs_end_to_end_with_the_planted_counts(corpus, tmp_path):
    root, plan = corpus
    registry = load_plugins()
    chosen = selection(registry)
    assert "slimorca" in chosen["source"] and "helpsteer" in chosen["dpo_builder"]
    config = RunConfig(
        sources=chosen["source"],
        dpo=chosen["dpo_builder"],
        formats="all",
        decontaminate="none",
        data_root=root,
        out=tmp_path / "out",
        num_proc=1,
    )
    manifest = run(config, registry).manifest.to_json()
    selected = chosen["source"] + chosen["dpo_builder"]
    expected = expected_counts(plan, selected, formats=len(manifest["formats"]))
    for name in selected:
        got = manifest["sources"][name]
        planted = plan["planted"][name]
        assert got["rejected"] == {}, name
        # The counts per filter reason, whatever the plugin calls the reasons.
        assert sorted(v for v in got["filtered"].values() if v) == sorted(planted["filtered"].values()), name
        assert {k: got[k] for k in ("loaded", "duplicates", "rows_written")} == expected[name], name
    # Every kind of duplicate was planted and removed from the lower-priority source.
    assert manifest["sources"]["slimorca"]["duplicates"] > plan["planted"]["slimorca"]["duplicates_of"]["slimorca"] > 0
    assert (
        manifest["sources"]["airoboros"]["duplicates"] == plan["planted"]["airoboros"]["duplicates_of"]["slimorca"] > 0
    )
    assert plan["planted"]["slimorca"]["filtered"]["refusal"] > 0
    assert plan["planted"]["airoboros"]["kept_refusals"] > 0  # airoboros has no refusal filter


def test_raising_a_priority_moves_the_duplicates_to_the_other_source(corpus, tmp_path):
    root, plan = corpus
    config = RunConfig(
        sources="slimorca,mathinstruct",
        dpo="none",
        formats="vicuna",
        decontaminate="none",
        data_root=root,
        out=tmp_path / "out",
        options={"source": {"slimorca": {"priority": 4}}},
    )
    sources = run(config, load_plugins()).manifest.to_json()["sources"]
    slimorca, math = plan["planted"]["slimorca"]["duplicates_of"], plan["planted"]["mathinstruct"]["duplicates_of"]
    # SlimOrca now loads first: the instructions it shares with MathInstruct are MathInstruct's duplicates.
    assert sources["slimorca"]["duplicates"] == slimorca["slimorca"]
    assert sources["mathinstruct"]["duplicates"] == math["mathinstruct"] + slimorca["mathinstruct"]
