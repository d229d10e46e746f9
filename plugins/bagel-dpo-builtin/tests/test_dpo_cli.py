"""End to end: ``bagel run --sample --sources none --dpo all`` writes every pair into
``dpo.parquet`` once per format, prompt rendered, chosen/rejected raw, counts in the manifest."""

import json
from collections import Counter

import pyarrow.parquet as pq

from bagel_core.testing import check_plugin, invoke_cli, load_sample
from bagel_dpo_builtin import plugin

BUILDERS = (
    plugin.AiroborosRewrites,
    plugin.HelpSteer,
    plugin.LmsysChatDPO,
    plugin.OrcaDPOPairs,
    plugin.ToxicDPO,
    plugin.TruthyDPO,
    plugin.UltraFeedback,
    plugin.ContextualDPO,
    plugin.GutenbergDPO,
    plugin.PyDPO,
)


def test_dpo_cli_sample_run_writes_every_pair_in_every_format(tmp_path):
    out = tmp_path / "out"
    result = invoke_cli(
        *[
            "run",
            "--sample",
            "--sources",
            "none",
            "--dpo",
            "all",
            "--formats",
            "all",
            "--decontaminate",
            "none",
            "--out",
            str(out),
            "-q",
        ],
    )
    assert result.exit_code == 0, result.output
    manifest = json.loads((out / "manifest.json").read_text())
    formats = manifest["formats"]
    assert formats
    rows = pq.read_table(out / "dpo.parquet").to_pylist()
    # Pairs only, except gutenberg-dpo's SFT copies (single-turn: one row per format each).
    sft = pq.read_table(out / "sft.parquet").to_pylist()
    assert {r["source"] for r in sft} == {"gutenberg-dpo"}
    for cls in BUILDERS:
        expected, counts = load_sample(cls)
        entry = manifest["sources"][cls.name]
        assert (entry["kind"], entry["dataset_ids"]) == ("dpo_builder", list(cls.dataset_ids))
        assert (entry["loaded"], entry["rejected"], entry["filtered"]) == (
            counts.loaded,
            dict(counts.rejected),
            dict(counts.filtered),
        )
        unique = list({r["id"]: r for r in reversed(expected)}.values())  # first occurrence wins
        assert entry["duplicates"] == len(expected) - len(unique)
        copies = sum(1 for pair in unique if pair.get("conversations"))
        assert entry["rows_written"] == {
            "sft": copies * len(formats),
            "dpo": len(unique) * len(formats),
            "conversations": copies,
        }
        for pair in unique:
            written = [r for r in rows if r["id"] == pair["id"]]
            assert Counter(r["format"] for r in written) == Counter(formats)
            for r in written:
                lead = " " if r["format"] == "vicuna" else ""  # the space vicuna's prompt ends with
                assert (r["source"], r["chosen"], r["rejected"]) == (
                    pair["source"],
                    lead + pair["chosen"],
                    lead + pair["rejected"],
                )
                assert pair["prompt"] in r["prompt"] and r["prompt"] != pair["prompt"]
                if pair.get("system"):
                    assert pair["system"] in r["prompt"]
    assert manifest["sources"]["ultrafeedback"]["duplicates"] == 1


def test_dpo_cli_list_plugins_shows_every_builder_with_its_upstream_ids():
    result = invoke_cli("list-plugins", "--verbose")  # one component a line, with its datasets
    assert result.exit_code == 0, result.output
    for cls in BUILDERS:
        assert f"{cls.name} [{', '.join(cls.dataset_ids)}]" in result.output


def test_dpo_plugin_conformance():
    assert set(check_plugin(plugin)) == set(BUILDERS)
