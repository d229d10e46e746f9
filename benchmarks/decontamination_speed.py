"""Throughput of the decontaminators on real texts.

- ngram: queries per second against every benchmark text the reference indexed;
- embedding: sentences per second encoded (no cache), served from the on-disk cache (a rerun),
  and searched in the faiss index; per backend, one after the other on the same texts.

    .venv/bin/python benchmarks/decontamination_speed.py [--texts 2000] [--ngram-items 200000]
        [--backend torch,onnx-int8,onnx] [--skip-ngram]
"""

from __future__ import annotations

import argparse
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from decontamination_texts import benchmark_items, clean_texts  # noqa: E402

from bagel_core.builtin.decontaminate.embedding import EmbeddingDecontaminator  # noqa: E402
from bagel_core.builtin.decontaminate.ngram import NgramDecontaminator  # noqa: E402
from bagel_core.components import Query  # noqa: E402


def _timed(label: str, count: int, fn) -> float:
    started = time.perf_counter()
    result = fn()
    seconds = time.perf_counter() - started
    print(f"{label}: {count} in {seconds:.2f}s = {count / seconds:,.0f}/s")
    return result


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--texts", type=int, default=2000, help="clean texts to encode")
    parser.add_argument("--ngram-items", type=int, default=200_000, help="queries for the n-gram test")
    parser.add_argument("--backend", default="torch", help="embedding backends to time, comma-separated, in order")
    parser.add_argument("--skip-ngram", action="store_true")
    args = parser.parse_args()
    index = [b for texts in benchmark_items().values() for b in texts]
    texts = clean_texts(args.texts)
    print(
        f"{len(index)} benchmark texts; {len(texts)} clean texts (mean {sum(map(len, texts)) / len(texts):.0f} chars)"
    )

    if not args.skip_ngram:
        ngram = NgramDecontaminator()
        _timed("ngram index", len(index), lambda: ngram.index(index))
        pool = clean_texts(100_000)
        queries = [Query(str(i), "s", pool[i % len(pool)], (pool[i % len(pool)],)) for i in range(args.ngram_items)]
        _timed("ngram search", len(queries), lambda: list(ngram.search(queries)))

    for backend in args.backend.split(","):
        options = EmbeddingDecontaminator.Options(backend=backend)
        with tempfile.TemporaryDirectory() as cache:
            first = EmbeddingDecontaminator(options, cache_dir=Path(cache))
            _timed(f"[{backend}] embedding model load, first time (ONNX: with the export)", 1, first._encoder)
            cold = EmbeddingDecontaminator(options, cache_dir=Path(cache))
            _timed(f"[{backend}] embedding model load", 1, cold._encoder)
            _timed(f"[{backend}] embedding encode, no cache", len(texts), lambda: cold.embed(texts))
            warm = EmbeddingDecontaminator(options, cache_dir=Path(cache))
            _timed(
                f"[{backend}] embedding encode, from the cache (new instance)", len(texts), lambda: warm.embed(texts)
            )
            assert warm.cache.encoded == 0
    import faiss
    import numpy as np

    rng = np.random.default_rng(0)
    vectors = rng.standard_normal((len(index), 384)).astype(np.float32)
    faiss.normalize_L2(vectors)
    flat = faiss.IndexFlatIP(384)
    flat.add(vectors)
    _timed(f"faiss search (IndexFlatIP, {len(index)} vectors, k=4)", 20_000, lambda: flat.search(vectors[:20_000], 4))


if __name__ == "__main__":
    main()
