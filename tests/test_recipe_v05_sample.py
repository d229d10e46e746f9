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
    assert chatml and all(r["input"].startswith("<s>") and r["output"].endswith("<|im_end|>") for r in chatml)
    assert all(r["input"].endswith("### Response:") for r in sft if r["format"] == "alpaca")
    # Function calls keep their markers; the DPO sets' SFT copies are SFT rows.
    assert any("<|begin_func|>" in r["input"] + r["output"] for r in sft if r["source"] == "glaive-func")
    assert {"toxic-dpo", "gutenberg-dpo"} <= {r["source"] for r in sft}
    labels = {r["source"] for r in sft}
    assert {"cinematika_memories", "cinematika_director", "cinematika_actions", "cinematika_scenes"} <= labels
    # DPO pairs are cut into the reference's four 75% chunks in their loaded order, unshuffled
    # (issue 28, row 9): the loaded order is the reference's module order (priority, then
    # name), so each source's pairs sit together and the first quarter of all pairs misses
    # vicuna, the second chatml, the third llama-2, the last alpaca.
    dpo = pq.read_table(out / "dpo.parquet").to_pylist()
    order = list(dict.fromkeys(r["id"] for r in dpo))
    source_of = {r["id"]: r["source"] for r in dpo}
    runs = [s for i, s in enumerate(source_of[p] for p in order) if i == 0 or s != source_of[order[i - 1]]]
    # One run per label, in the order of the reference's modules (contextual_dpo ... ultrafeedback
    # at priority 2, airoboros at 1); the airoboros rewrites are labelled by category.
    assert runs[:9] == [
        "contextual-dpo",
        "gutenberg-dpo",
        "helpsteer",
        "lmsys_chat_1m",
        "orca_dpo_pairs",
        "py-dpo",
        "toxic-dpo",
        "truthy-dpo",
        "ultrafeedback",
    ]
    assert {r.split("_")[0] for r in runs[9:]} == {"airoboros"} and len(runs) == len(set(runs))
    formats = {}
    for r in dpo:
        formats.setdefault(r["id"], set()).add(r["format"])
    names, total = ["alpaca", "vicuna", "chatml", "llama-2"], len(order)
    quarter = total - total * 3 // 4
    left_out = [
        range(total - quarter, total),
        range(0, quarter),
        range(quarter, 2 * quarter),
        range(2 * quarter, 3 * quarter),
    ]
    assert [formats[p] for p in order] == [{n for n, out in zip(names, left_out) if i not in out} for i in range(total)]
