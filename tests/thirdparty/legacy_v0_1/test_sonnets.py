"""The 0.1 plugin's own tests, as written for bagel-core 0.1 (its guide's testing section):
run by tests/test_plugin_api.py, which turns the expected DeprecationWarnings into checks."""

import bagel_sonnets

from bagel_core.testing import check_plugin, load_sample, registry_with, run_pipeline


def test_conformance():
    check_plugin(bagel_sonnets)


def test_rows():
    records, counts = load_sample(bagel_sonnets.Sonnets)
    assert records[0]["conversations"][1]["value"] == "Why are you Romeo?"
    assert counts.rejected == {}


def test_rows_with_options():
    # 0.1 took the Options instance itself
    records, counts = load_sample(bagel_sonnets.Sonnets, options=bagel_sonnets.Sonnets.Options(min_words=5))
    assert len(records) == 3 and counts.filtered == {"short line": 1}


def test_in_a_run(tmp_path):
    registry = registry_with(("sonnets", bagel_sonnets))
    manifest = run_pipeline(
        tmp_path / "out",
        registry,
        sources="sonnets",
        dpo="none",
        formats="scroll",
        decontaminate="contains",
        benchmarks="sonnets-quiz",
        sample=True,
    )
    assert manifest["sources"]["sonnets"]["contaminated"] == 1
    assert manifest["sources"]["sonnets"]["rows_written"]["sft"] == 3
