"""Decontamination inside ``bagel run``: removal by id, the report, counts, dry run (n-gram)."""

import decontam_plugin as plugin
import pyarrow.parquet as pq
import pytest

from bagel_core import BenchmarkSet, BenchmarkText, readers
from bagel_core.config import RunConfig
from bagel_core.pipeline import run
from bagel_core.records import uid
from bagel_core.registry import load_plugins
from bagel_core.stages.decontaminate import BenchmarkError, benchmark_texts


@pytest.fixture(scope="module")
def registry():
    return load_plugins(extra=[("test-decontam", plugin)])


def _run(registry, out, **config):
    # The first human turn only (the reference's choice), unless a test says otherwise.
    config = {
        "sources": "test-mixed",
        "dpo": "none",
        "formats": "test-plain",
        "decontaminate": "ngram",
        "benchmarks": "test-gsm8k,test-truthfulqa",
        "out": out,
        "options": {"decontaminator": {"ngram": {"query_text": "first"}}},
    } | config
    manifest = run(RunConfig(**config), registry).manifest.to_json()
    sft_ids = set(pq.read_table(out / "sft.parquet", columns=["id"]).column("id").to_pylist())
    dpo_ids = set(pq.read_table(out / "dpo.parquet", columns=["id"]).column("id").to_pylist())
    report = pq.read_table(out / "contamination.parquet").to_pylist()
    return manifest, sft_ids, dpo_ids, report


CONTAMINATED = {
    uid(plugin.VERBATIM): ("test-gsm8k", "3"),
    uid(plugin.PREFIXED): ("test-gsm8k", "7"),
    uid(plugin.DPO_PROMPT): ("test-truthfulqa", "5"),
}
LATER_TURN_ID = uid("Can you help me with maths?\n" + plugin.LATER_TURN)


def test_decontam_removes_contaminated_items_and_reports_them(registry, tmp_path):
    manifest, sft_ids, dpo_ids, report = _run(registry, tmp_path / "out")
    assert {r["id"]: (r["benchmark"], r["benchmark_item"]) for r in report} == CONTAMINATED
    assert {r["decontaminator"] for r in report} == {"ngram"} and all(r["source"] == "test-mixed" for r in report)
    verbatim = next(r for r in report if r["id"] == uid(plugin.VERBATIM))
    assert (verbatim["text"], verbatim["benchmark_text"], verbatim["score"]) == (plugin.VERBATIM, plugin.GSM8K[3], 1.0)
    assert not (sft_ids | dpo_ids) & set(CONTAMINATED)
    # Clean questions, the later-turn item (first turn checked by default) and plain text stay.
    assert {uid(q) for q in plugin.CLEAN} | {LATER_TURN_ID} <= sft_ids
    assert len(sft_ids) == len(plugin.CLEAN) + 2 and dpo_ids == set()
    c = manifest["contamination"]
    assert (c["flagged"], c["removed"], c["dry_run"]) == (3, 3, False)
    assert c["by_benchmark"] == {"test-gsm8k": 2, "test-truthfulqa": 1}
    assert c["by_origin"] == {"test-mixed": {"ngram": 3}}
    assert manifest["sources"]["test-mixed"]["contaminated"] == 3 and manifest["totals"]["contaminated"] == 3
    card = (tmp_path / "out" / "README.md").read_text()
    assert "| test-gsm8k | 2 |" in card and "| test-truthfulqa | 1 |" in card


def test_decontam_dry_run_reports_and_removes_nothing(registry, tmp_path):
    manifest, sft_ids, dpo_ids, report = _run(registry, tmp_path / "out", decontaminate_dry_run=True)
    assert {r["id"] for r in report} == set(CONTAMINATED)
    assert set(CONTAMINATED) <= sft_ids | dpo_ids and uid(plugin.DPO_PROMPT) in dpo_ids
    c = manifest["contamination"]
    assert (c["flagged"], c["removed"], c["dry_run"]) == (3, 0, True)
    assert manifest["totals"]["contaminated"] == 0
    assert "reported only (dry run)" in (tmp_path / "out" / "README.md").read_text()


def test_decontam_every_human_turn_by_default(registry, tmp_path):
    manifest, sft_ids, _, report = _run(registry, tmp_path / "out", options={})
    later = next(r for r in report if r["id"] == LATER_TURN_ID)
    assert (later["benchmark"], later["benchmark_item"], later["text"]) == ("test-gsm8k", "10", plugin.LATER_TURN)
    assert later["views"] == "text<-turn2"  # the benchmark's view, and the item's second human turn
    assert manifest["contamination"]["flagged"] == 4 and LATER_TURN_ID not in sft_ids


def test_decontam_option_flag_sets_the_embedding_model(monkeypatch, tmp_path):
    from click.testing import CliRunner

    import bagel_core.pipeline
    from bagel_core.cli import cli

    seen = {}

    def fake_run(config, registry, quiet, log, **_):
        seen["options"] = config.options
        raise ValueError("stop here")

    monkeypatch.setattr(bagel_core.pipeline, "run", fake_run)
    recipe = tmp_path / "r.toml"
    recipe.write_text('[run]\ndecontaminate = ["embedding"]\n\n[decontaminator.embedding]\nthreshold = 0.95\n')
    result = CliRunner().invoke(
        cli, ["run", "--recipe", str(recipe), "-o", "decontaminator.embedding.model=/models/bge", "-q"]
    )
    assert "stop here" in result.output
    assert seen["options"]["decontaminator"]["embedding"] == {"threshold": 0.95, "model": "/models/bge"}


def test_decontam_dry_run_counts_per_source(registry, tmp_path):
    dry, *_ = _run(registry, tmp_path / "dry", decontaminate_dry_run=True)
    wet, *_ = _run(registry, tmp_path / "wet")
    for name in wet["sources"]:
        assert (
            dry["sources"][name]["flagged"] == wet["sources"][name]["flagged"] == wet["sources"][name]["contaminated"]
        )
        assert dry["sources"][name]["contaminated"] == 0
    assert sum(s["flagged"] for s in wet["sources"].values()) == wet["contamination"]["flagged"] == 3
    assert "items matched (reported only, dry run)" in (tmp_path / "dry" / "README.md").read_text()


def test_decontam_workers_give_the_same_output_as_one_process(registry, tmp_path, monkeypatch):
    from bagel_core.stages import decontaminate

    monkeypatch.setattr(decontaminate, "QUERY_BATCH", 7)  # many batches, spread over both workers
    options = {"decontaminator": {"ngram": {"query_text": "all"}}}
    one = _run(registry, tmp_path / "one", options=options)
    two = _run(registry, tmp_path / "two", options=options, num_proc=2)
    assert one[0]["contamination"] == two[0]["contamination"] and one[0]["contamination"]["flagged"] == 4
    assert one[1:3] == two[1:3]
    assert one[3] == two[3]  # the report: same rows, in the same order


@pytest.mark.parametrize("num_proc", [1, 2])
def test_decontam_plugin_error_fails_the_run_with_its_own_message(registry, tmp_path, num_proc):
    with pytest.raises(ValueError, match=r"test-broken: cannot index 100 texts"):
        _run(registry, tmp_path / "out", decontaminate="test-broken", num_proc=num_proc)
    assert not (tmp_path / "out" / "sft.parquet").exists()  # nothing published


class RowsBenchmark(BenchmarkSet):
    """Real GSM8K questions as rows, one of them without its field."""

    name = "test-rows"
    rows = [{"q": plugin.GSM8K[0]}, {"question": plugin.GSM8K[1]}, {"q": plugin.GSM8K[2]}]

    def texts(self, ctx):
        for i, row in enumerate(ctx.iter_rows(self.rows)):
            with ctx.guard(row):
                yield BenchmarkText(self.name, str(i), readers.text(row, "q"))


class NoGoodRows(RowsBenchmark):
    name = "test-no-good-rows"
    rows = [{"question": q} for q in plugin.GSM8K[:3]]


class Buggy(RowsBenchmark):
    name = "test-buggy"

    def texts(self, ctx):
        return [BenchmarkText(self.name, "0", None).text.strip()]  # AttributeError: a bug


def test_decontam_benchmark_rows_of_bad_data_are_counted_a_failing_set_stops_the_run():
    texts, counts = benchmark_texts(RowsBenchmark, None, None, 0)
    assert [t.text for t in texts] == [plugin.GSM8K[0], plugin.GSM8K[2]]
    assert counts == {"texts": 2, "rejected": {"missing field 'q'": 1}}
    with pytest.raises(
        BenchmarkError,
        match=r"benchmark set 'test-no-good-rows' \(test_decontam_pipeline\): no text to "
        r"decontaminate against, every row rejected \(missing field 'q': 3 \(first at row 0\)\)",
    ):
        benchmark_texts(NoGoodRows, None, None, 0)
    with pytest.raises(BenchmarkError, match=r"benchmark set 'test-buggy' .*failed: AttributeError"):
        benchmark_texts(Buggy, None, None, 0)


def test_decontam_manifest_counts_each_benchmark_sets_texts(registry, tmp_path):
    manifest, *_ = _run(registry, tmp_path / "out")
    assert manifest["contamination"]["benchmarks"] == {
        "test-gsm8k": {"texts": 60, "rejected": {}},
        "test-truthfulqa": {"texts": 40, "rejected": {}},
    }
