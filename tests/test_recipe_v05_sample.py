"""``bagel run --recipe recipes/bagel-v0.5.toml --sample``: the later mixture runs end to end on
the shipped samples, and its rows carry what the v0.5 state wrote (3 of 4 formats per item,
chatml's literal <|im_end|>, function-call markers, the DPO sets' SFT copies)."""

import json
from collections import Counter
from pathlib import Path

import pyarrow.parquet as pq
from click.testing import CliRunner

from bagel_core.cli import cli
from bagel_core.config import load_recipe

RECIPE = Path(__file__).resolve().parents[1] / "recipes" / "bagel-v0.5.toml"


def test_v05_recipe_runs_on_the_samples(tmp_path):
    out = tmp_path / "out"
    args = ["run", "--recipe", str(RECIPE), "--sample", "--decontaminate", "none", "--out", str(out), "-q"]
    result = CliRunner().invoke(cli, args)
    assert result.exit_code == 0, result.output
    recipe = load_recipe(RECIPE)
    manifest = json.loads((out / "manifest.json").read_text())
    # Every selected source and builder wrote rows.
    for name in recipe["sources"] + recipe["dpo"]:
        written = manifest["sources"][name]["rows_written"]
        assert written["sft"] + written["dpo"] > 0, name
    sft = pq.read_table(out / "sft.parquet").to_pylist()
    # 3 of 4 formats per single-turn item; plain text once.
    per_item = Counter((r["id"], r["format"]) for r in sft if r["source"] == "sql")
    assert Counter(Counter(i for i, _ in per_item).values()) == {3: 3}
    assert {r["format"] for r in sft if r["source"] == "comedy-snippets"} == {"plain-text"}
    # chatml of that time: BOS on the first turn, the literal <|im_end|> after every answer.
    chatml = [r for r in sft if r["format"] == "chatml"]
    assert chatml and all(r["prompt"].startswith("<s>") and r["completion"].endswith("<|im_end|>") for r in chatml)
    assert all(r["prompt"].endswith("### Response:") for r in sft if r["format"] == "alpaca")
    # Function calls keep their markers; the DPO sets' SFT copies are SFT rows.
    assert any("<|begin_func|>" in r["prompt"] + r["completion"] for r in sft if r["source"] == "glaive-func")
    assert {"toxic-dpo", "gutenberg-dpo"} <= {r["source"] for r in sft}
    labels = {r["source"] for r in sft}
    assert {"cinematika_memories", "cinematika_director", "cinematika_actions", "cinematika_scenes"} <= labels
