"""The on-disk embedding cache with a fake encoder (no model): reuse, dedup, partial shards."""

import numpy as np

from bagel_core.builtin.embeddings import cache as embedding_cache
from bagel_core.builtin.embeddings.cache import EmbeddingCache


class FakeEncoder:
    """Vector of a text: its length, its first character code, 1.0; records every call."""

    def __init__(self):
        self.calls = []

    def __call__(self, texts):
        self.calls.append(list(texts))
        return np.array([[len(t), ord(t[0]) if t else 0, 1.0] for t in texts], dtype=np.float64)


def test_decontam_cache_encodes_each_text_once_across_instances(tmp_path):
    enc = FakeEncoder()
    cache = EmbeddingCache(tmp_path, "model-a|max_tokens=256")
    first = cache.embed(["bb", "a", "bb", "ccc"], enc)
    assert enc.calls == [["ccc", "bb", "a"]]  # unique texts, longest first
    np.testing.assert_array_equal(first[:, 0], [2, 1, 2, 3])
    assert first.dtype == np.float32 and cache.encoded == 3

    again = EmbeddingCache(tmp_path, "model-a|max_tokens=256")
    assert len(again) == 3
    second = again.embed(["ccc", "a", "dddd"], enc)
    assert enc.calls[1:] == [["dddd"]] and again.encoded == 1
    np.testing.assert_array_equal(second[:, 0], [3, 1, 4])
    assert len(EmbeddingCache(tmp_path, "model-a|max_tokens=256")) == 4
    # Another model (or max length) has its own folder.
    assert len(EmbeddingCache(tmp_path, "model-b|max_tokens=256")) == 0


def test_decontam_cache_chunks_ignores_partial_shards_and_keeps_zero_bytes(tmp_path, monkeypatch):
    monkeypatch.setattr(embedding_cache, "CHUNK", 2)
    enc = FakeEncoder()
    cache = EmbeddingCache(tmp_path, "m")
    texts = [f"text {i}" for i in range(5)]
    cache.embed(texts, enc)
    assert [len(c) for c in enc.calls] == [2, 2, 1]
    shards = sorted(cache.folder.glob("*.keys.npy"))
    assert sorted(len(np.load(f)) for f in shards) == [1, 2, 2]
    next(f for f in shards if len(np.load(f)) == 2).unlink()  # as if killed before writing keys
    reopened = EmbeddingCache(tmp_path, "m")
    assert len(reopened) == 3
    reopened.embed(texts, enc)
    assert reopened.encoded == 2
    # Digests ending in a zero byte survive the round trip (numpy "S" strings would drop it).
    zero = next(f"t{i}" for i in range(10_000) if embedding_cache.digest(f"t{i}").endswith(b"\0"))
    cache.embed([zero], enc)
    assert EmbeddingCache(tmp_path, "m").embed([zero], enc).shape == (1, 3) and len(enc.calls) == 5  # not re-encoded


def test_decontam_cache_memory_only_without_folder():
    enc = FakeEncoder()
    cache = EmbeddingCache(None, "m")
    cache.embed(["x", "y"], enc)
    cache.embed(["y", "x"], enc)
    assert len(enc.calls) == 1 and cache.folder is None
    assert cache.embed([], enc).shape == (0, 3)


def test_decontam_cache_reads_shards_another_worker_wrote_since(tmp_path):
    enc = FakeEncoder()
    first = EmbeddingCache(tmp_path, "model-a|max_tokens=256")
    second = EmbeddingCache(tmp_path, "model-a|max_tokens=256")  # opened before first wrote anything
    first.embed(["xx", "y"], enc)
    vectors = second.embed(["y", "zzz"], enc)
    assert enc.calls == [["xx", "y"], ["zzz"]]  # "y" came from the first one's shard
    np.testing.assert_array_equal(vectors[:, 0], [1, 3])
    assert second.encoded == 1 and len(second) == 3
