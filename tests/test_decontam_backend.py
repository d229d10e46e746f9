"""The ONNX Runtime backends of the embedding decontaminator with the real all-MiniLM-L6-v2
(offline copy): export once into the cache, vectors close to torch's, the same matches in a run,
and caches that never mix backends."""

import subprocess
import sys

import decontam_plugin as plugin
import numpy as np
import pyarrow.parquet as pq
import pytest

from bagel_core.builtin.decontaminate.embedding import EmbeddingDecontaminator
from bagel_core.config import RunConfig
from bagel_core.pipeline import run
from bagel_core.records import uid
from bagel_core.registry import load_plugins

INT8 = EmbeddingDecontaminator.Options(backend="onnx-int8")
TEXTS = plugin.GSM8K[:12] + plugin.TRUTHFULQA[:12] + plugin.CLEAN[:12]


@pytest.fixture(scope="module")
def work(tmp_path_factory):
    """One work dir for the module, so the model is exported and quantized once."""
    return tmp_path_factory.mktemp("work")


def test_decontam_backend_int8_loads_offline_and_is_close_to_torch(work):
    cache_dir = work / "cache" / "embedding"
    int8 = EmbeddingDecontaminator(INT8, cache_dir=cache_dir)
    vectors = int8.embed(TEXTS)
    reference = EmbeddingDecontaminator(cache_dir=None).embed(TEXTS)
    cosines = (vectors * reference).sum(axis=1)
    assert vectors.shape == (len(TEXTS), 384) and vectors.dtype == np.float32
    np.testing.assert_allclose(np.linalg.norm(vectors, axis=1), 1.0, atol=1e-5)
    assert cosines.min() > 0.98 and cosines.mean() > 0.99
    assert not np.allclose(vectors, reference, atol=1e-4)  # really another encoder
    exported = sorted(p.name for p in (cache_dir / "onnx").glob("*/*.onnx"))
    assert exported == ["model.onnx", "model_int8.onnx"]
    # A batch of one works (dynamic axes); int8 activations are scaled per batch, so a text's
    # vector moves a little with the batch it is encoded in.
    alone = int8.encoder.encode([TEXTS[3]])[0]
    assert 0.98 < float(alone @ vectors[3]) < 0.9999


def test_decontam_backend_int8_run_finds_the_injected_contamination(work, tmp_path, static_model):
    registry = load_plugins(extra=[("test-decontam", plugin)])
    config = RunConfig(
        out=tmp_path / "out",
        sources="test-mixed",
        dpo="none",
        formats="test-plain",
        decontaminate="embedding",
        benchmarks="test-gsm8k,test-truthfulqa",
        work_dir=work,
        options={"decontaminator": {"embedding": {"backend": "onnx-int8", "static_model": static_model}}},
    )
    manifest = run(config, registry).manifest.to_json()
    report = pq.read_table(tmp_path / "out" / "contamination.parquet").to_pylist()
    later = uid("Can you help me with maths?\n" + plugin.LATER_TURN)
    expected = {uid(plugin.VERBATIM): "3", uid(plugin.PREFIXED): "7", uid(plugin.DPO_PROMPT): "5", later: "10"}
    assert {r["id"]: r["benchmark_item"] for r in report} == expected
    assert manifest["contamination"]["by_benchmark"] == {"test-gsm8k": 3, "test-truthfulqa": 1}
    sft_ids = set(pq.read_table(tmp_path / "out" / "sft.parquet", columns=["id"]).column("id").to_pylist())
    assert {uid(q) for q in plugin.CLEAN} <= sft_ids and not sft_ids & set(expected)
    folders = {p.parent.name for p in (work / "cache" / "embedding").glob("*/*.keys.npy")}
    assert folders and all("onnx-int8" in name for name in folders)


def test_decontam_backend_cache_never_mixes_backends(work):
    cache_dir = work / "mixing"
    texts = TEXTS[:6]
    torch_vectors = EmbeddingDecontaminator(cache_dir=cache_dir).embed(texts)
    int8 = EmbeddingDecontaminator(INT8, cache_dir=cache_dir)
    int8_vectors = int8.embed(texts)
    assert int8.cache.encoded == len(texts)  # torch's vectors are not reused
    assert int8.cache.folder != EmbeddingDecontaminator(cache_dir=cache_dir).cache.folder
    assert not np.allclose(int8_vectors, torch_vectors, atol=1e-4)
    # Each backend finds its own vectors again.
    for options, vectors in ((INT8, int8_vectors), (EmbeddingDecontaminator.Options(), torch_vectors)):
        again = EmbeddingDecontaminator(options, cache_dir=cache_dir)
        np.testing.assert_array_equal(again.embed(texts), vectors)
        assert again.cache.encoded == 0


def test_decontam_backend_rejects_unknown_backend_and_imports_lazily():
    from bagel_core.config import make_options

    with pytest.raises(
        ValueError,
        match="decontaminator 'embedding': backend = 'tensorrt' is not allowed; expected one of 'torch', 'onnx', 'onnx-int8'",
    ):
        make_options(EmbeddingDecontaminator, {"backend": "tensorrt"})
    code = (
        "import sys, bagel_core.builtin.decontaminate.embedding, bagel_core.builtin.decontaminate.code\n"
        "print(sorted(m for m in ('torch', 'onnxruntime', 'onnx', 'sentence_transformers', 'model2vec', 'faiss') if m in sys.modules))"
    )
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=60)
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == "[]"
