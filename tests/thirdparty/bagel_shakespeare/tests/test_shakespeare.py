"""The plugin's own tests, with bagel_core.testing: they pass installed or not."""

import bagel_shakespeare as plugin
from bagel_core.testing import check_plugin, load_sample, registry_with, run_pipeline


def test_conformance():
    check_plugin(plugin)  # every component: attributes, options, samples, chat template == render


def test_source_rows():
    records, counts = load_sample(plugin.Shakespeare, {"instruction": "Modernise:"})
    assert records[0]["conversations"][0]["value"] == "Modernise:\nWherefore art thou Romeo?"
    assert len(records) == 4 and counts.rejected == {}


def test_in_a_run(tmp_path):
    registry = registry_with(("shakespeare", plugin))
    manifest = run_pipeline(tmp_path / "out", registry, sources="shakespeare", dpo="none", formats="playbill",
                            decontaminate="quoted-line", benchmarks="shakespeare-quiz", sample=True)
    assert manifest["sources"]["shakespeare"]["contaminated"] == 1  # "All the world's a stage."
    assert manifest["sources"]["shakespeare"]["rows_written"]["sft"] == 3
