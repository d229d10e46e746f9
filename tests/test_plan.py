"""``bagel run --plan``: the expected mixture, counted without rendering, equals what a run writes."""

from collections import Counter

import pyarrow.parquet as pq
import pytest
from click.testing import CliRunner

from bagel_core.config import RunConfig
from bagel_core.pipeline import run
from bagel_core.rendering import PLAIN_TEXT

TOY = dict(sources="toy-high,toy-low", dpo="toy-pairs", formats="alpaca,vicuna,llama-2,chatml", decontaminate="none")
FORMATS = ["alpaca", "vicuna", "llama-2", "chatml"]


def _written(out):
    """(source, format) -> rows of sft.parquet and dpo.parquet together."""
    counts = Counter()
    for name in ("sft.parquet", "dpo.parquet"):
        for row in pq.read_table(out / name, columns=["source", "format"]).to_pylist():
            counts[row["source"], row["format"]] += 1
    return counts


def test_plan_predicts_every_row_a_run_writes(tmp_path, toy_root, toy_registry):
    config = dict(data_root=toy_root, work_dir=tmp_path / "work", **TOY)
    plan = run(RunConfig(out=tmp_path / "planned", **config), toy_registry, plan=True).plan
    assert not (tmp_path / "planned").exists()  # nothing rendered or written
    result = run(RunConfig(out=tmp_path / "out", **config), toy_registry)
    written = _written(tmp_path / "out")
    for name, s in plan["sources"].items():
        for fmt in [*FORMATS, PLAIN_TEXT]:
            # The toy components label their records with their own name.
            assert s["rows"][fmt] == written[name, fmt], (name, fmt)
        assert s["loaded"] == result.manifest.to_json()["sources"][name]["loaded"]
        assert s["duplicates"] == result.manifest.to_json()["sources"][name]["duplicates"]
    t = plan["totals"]
    assert (
        sum(t["rows"].values())
        == result.manifest.to_json()["totals"]["sft_rows"] + result.manifest.to_json()["totals"]["dpo_rows"]
    )
    # toy-low's plain text once; 3 + 5 - 2 duplicates = 6 SFT items, 3 - 1 = 2 pairs (test_pipeline).
    assert t["rows"][PLAIN_TEXT] == 1
    assert (t["sft_items"], t["dpo_pairs"]) == (6, 2)
    assert plan["sources"]["toy-low"]["upstream_rows"] == 5 + 1 + 0  # loaded + rejected + filtered


@pytest.mark.parametrize("assignment", ["spread", "random"])
def test_plan_with_copies_per_item_deals_as_the_render_stage(tmp_path, toy_root, toy_registry, assignment):
    config = dict(
        data_root=toy_root, work_dir=tmp_path / "work", copies_per_item=2, format_assignment=assignment, **TOY
    )
    plan = run(RunConfig(out=tmp_path / "p", **config), toy_registry, plan=True).plan
    run(RunConfig(out=tmp_path / "out", **config), toy_registry)
    written = _written(tmp_path / "out")
    # The plan deals the formats as the render stage does: exact, source by source.
    for name, s in plan["sources"].items():
        for fmt in [*FORMATS, PLAIN_TEXT]:
            assert s["rows"][fmt] == written[name, fmt], (name, fmt)
    assert plan["totals"]["rows"][PLAIN_TEXT] == 1
    every = run(RunConfig(out=tmp_path / "p", **{**config, "copies_per_item": None}), toy_registry, plan=True).plan
    assert 2 * sum(plan["totals"]["rows"][f] for f in FORMATS) == sum(every["totals"]["rows"][f] for f in FORMATS)


def test_plan_command_prints_the_table(tmp_path, toy_root, toy_registry, monkeypatch):
    from bagel_core import cli

    monkeypatch.setattr(cli, "_registry", lambda strict=None: toy_registry)
    result = CliRunner().invoke(
        cli.cli,
        [
            "run",
            "--plan",
            "-q",
            "--data-root",
            str(toy_root),
            "--out",
            str(tmp_path / "o"),
            "--sources",
            "toy-high,toy-low",
            "--dpo",
            "toy-pairs",
            "--formats",
            "vicuna,chatml",
            "--plan-json",
            str(tmp_path / "plan.json"),
        ],
    )
    assert result.exit_code == 0, result.output
    lines = result.output.splitlines()
    assert lines[0].split()[:3] == ["source", "prio", "upstream"] and "plain-text" in lines[0]
    assert any(line.startswith("TOTAL") for line in lines)
    assert "items after dedup: 8 (6 SFT, 2 DPO, 0 both)" in result.output
    # Only the stage cache (reused by the run that follows) is written, no output.
    assert (tmp_path / "plan.json").exists() and not (tmp_path / "o" / "sft.parquet").exists()


def test_plan_shows_the_caps_that_apply(tmp_path, toy_root, toy_registry):
    options = {"source": {"toy-low": {"max_items": 2}}}
    config = RunConfig(
        out=tmp_path / "o", data_root=toy_root, options=options, global_cap=3, global_cap_sample=2, **TOY
    )
    plan = run(config, toy_registry, plan=True).plan
    low, high = plan["sources"]["toy-low"], plan["sources"]["toy-high"]
    assert (low["max_items"], high["max_items"]) == (2, None)
    assert low["filtered"]["cap"] == 3 and low["loaded"] == 2  # 5 valid records, 2 kept
    assert high["filtered"]["global cap"] == 1  # 3 records reach the global cap: a sample of 2
    assert plan["global_cap"] == [3, 2]
    from bagel_core.plan import plan_table

    table = plan_table(plan)
    assert "global cap: a component with 3 items or more kept a seeded 2" in table
    assert any(line.startswith("toy-low") and " 2  cap: 3" in line for line in table.splitlines())


def test_run_flags_for_the_references_rules_reach_the_config(tmp_path, toy_root, toy_registry, monkeypatch):
    import json

    from bagel_core import cli

    monkeypatch.setattr(cli, "_registry", lambda strict=None: toy_registry)
    args = [
        "run",
        "--plan",
        "-q",
        "--data-root",
        str(toy_root),
        "--out",
        str(tmp_path / "o"),
        "--sources",
        "toy-high,toy-low",
        "--dpo",
        "toy-pairs",
        "--formats",
        "vicuna,chatml",
        "--copies-per-item",
        "1",
        "--format-assignment",
        "random",
        "--newlines",
        "none",
        "--dedup-scope",
        "shared",
        "--plan-json",
        str(tmp_path / "plan.json"),
    ]
    result = CliRunner().invoke(cli.cli, args)
    assert result.exit_code == 0, result.output
    plan = json.loads((tmp_path / "plan.json").read_text())
    assert (plan["copies_per_item"], plan["format_assignment"]) == (1, "random")
    bad = CliRunner().invoke(cli.cli, [*args[:-2], "--newlines", "collapse"])
    assert bad.exit_code != 0 and "'collapse' is not one of 'newline-runs', 'none', 'blank-line-runs'" in bad.output


def test_plan_says_its_counts_are_before_decontamination(tmp_path, toy_root, toy_registry):
    """issue 28: with decontamination on, a run writes fewer rows than the plan counts; the
    plan says so plainly instead of "a few more"."""
    from bagel_core.plan import plan_table

    config = RunConfig(out=tmp_path / "o", data_root=toy_root, **TOY)
    plan = run(config, toy_registry, plan=True).plan
    assert plan["decontaminators"] == []
    assert plan_table(plan).splitlines()[-1] == "no decontamination selected: these are the run's counts"
    table = plan_table({**plan, "decontaminators": ["ngram", "embedding"]})
    assert table.splitlines()[-1].startswith(
        "counted BEFORE decontamination: the run's decontaminators (ngram, embedding) remove more"
    )
