"""The embedding decontaminator with the real all-MiniLM-L6-v2 (offline copy): matches in a run,
the report, and the cache that makes a second run encode nothing."""

import math

import decontam_plugin as plugin
import pyarrow.parquet as pq

from bagel_core.builtin.decontaminate.embedding import EmbeddingDecontaminator, resolve_model
from bagel_core.builtin.embeddings.encoder import SentenceEncoder
from bagel_core.components import BenchmarkText, Query
from bagel_core.config import RunConfig
from bagel_core.pipeline import run
from bagel_core.records import uid
from bagel_core.registry import load_plugins


def test_decontam_embedding_default_model_is_the_offline_copy():
    path, local = resolve_model(EmbeddingDecontaminator.Options().model)
    assert local and path.endswith("model")
    assert resolve_model("my/model") == ("my/model", False)


def test_decontam_embedding_run_removes_matches_and_second_run_encodes_nothing(tmp_path, monkeypatch, static_model):
    registry = load_plugins(extra=[("test-decontam", plugin)])
    config = dict(
        sources="test-mixed",
        dpo="none",
        formats="test-plain",
        decontaminate="embedding",
        benchmarks="test-gsm8k,test-truthfulqa",
        work_dir=tmp_path / "work",
        options={"decontaminator": {"embedding": {"static_model": static_model}}},
    )
    manifest = run(RunConfig(out=tmp_path / "a", **config), registry).manifest.to_json()
    report = pq.read_table(tmp_path / "a" / "contamination.parquet").to_pylist()
    later = uid("Can you help me with maths?\n" + plugin.LATER_TURN)  # every human turn is checked
    expected = {uid(plugin.VERBATIM): "3", uid(plugin.PREFIXED): "7", uid(plugin.DPO_PROMPT): "5", later: "10"}
    assert {r["id"]: r["benchmark_item"] for r in report} == expected
    threshold = EmbeddingDecontaminator.Options().threshold
    assert all(r["decontaminator"] == "embedding" and threshold <= r["score"] <= 1.0001 for r in report)
    assert {r["id"]: r["views"] for r in report}[later] == "text<-turn2"
    assert manifest["contamination"]["by_benchmark"] == {"test-gsm8k": 3, "test-truthfulqa": 1}
    sft_ids = set(pq.read_table(tmp_path / "a" / "sft.parquet", columns=["id"]).column("id").to_pylist())
    assert {uid(q) for q in plugin.CLEAN} <= sft_ids and not sft_ids & set(expected)

    cached = list((tmp_path / "work" / "cache" / "embedding").glob("*/*.keys.npy"))
    assert cached

    # A dry run is a new decontaminate stage: it must find every vector in the cache.
    def no_encoding(self, texts):
        raise AssertionError(f"encoded {len(texts)} texts despite the cache")

    monkeypatch.setattr(SentenceEncoder, "encode", no_encoding)
    again = run(RunConfig(out=tmp_path / "b", decontaminate_dry_run=True, **config), registry).manifest.to_json()
    assert again["contamination"]["flagged"] == 4 and again["contamination"]["removed"] == 0
    assert {r["id"] for r in pq.read_table(tmp_path / "b" / "contamination.parquet").to_pylist()} == set(expected)


def test_decontam_embedding_rules(tmp_path):
    d = EmbeddingDecontaminator(EmbeddingDecontaminator.Options(prefilter="none"), cache_dir=tmp_path)
    d.index([BenchmarkText("gsm8k", str(i), q) for i, q in enumerate(plugin.GSM8K[:20])])
    question = plugin.GSM8K[1]  # "A robe takes 2 bolts of blue fiber and half that much white fiber. ..."
    one_deleted = question.replace(" blue", "", 1)
    queries = [
        Query("deleted", "s", one_deleted, (one_deleted,)),
        Query("long", "s", question + " " + "Show every step of your reasoning. " * 4, ()),
        Query("clean", "s", plugin.CLEAN[0], (plugin.CLEAN[0],)),
    ]
    found = {m.id: m for m in d.search(queries)}
    assert found["deleted"].benchmark_item == "1" and found["deleted"].score < 0.999
    assert "clean" not in found
    assert d.cache.encoded == 23
    # The length rule (reference: 0.2) drops a match much longer than its benchmark text.
    strict = EmbeddingDecontaminator(
        EmbeddingDecontaminator.Options(max_length_delta=0.2, threshold=0.5, prefilter="none"), cache_dir=tmp_path
    )
    strict.index([BenchmarkText("gsm8k", str(i), q) for i, q in enumerate(plugin.GSM8K[:20])])
    assert {m.id for m in strict.search(queries)} == {"deleted"} and strict.cache.encoded == 0
    assert math.isinf(EmbeddingDecontaminator.Options().max_length_delta)
