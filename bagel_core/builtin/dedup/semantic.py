"""The ``semantic`` deduper: near-duplicates by the cosine similarity of sentence embeddings.

It embeds with the ``embedding`` decontaminator's model, backends and on-disk cache (the
decontaminator's cache folder beside this deduper's, so an item embedded by one is never
encoded again by the other), keeps the kept items' unit vectors in a faiss inner-product index,
and walks the items in priority order: an item whose nearest kept item (earlier batches from
the index, its own batch from a batch-by-batch similarity matrix) is at cosine >= ``threshold``
is removed. Encoding runs at about 100 texts a second on a CPU and the index is exact, so it
suits small mixtures or a GPU; it is not in any default chain.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from bagel_core.builtin.decontaminate.embedding import DEFAULT_MODEL, EmbeddingDecontaminator
from bagel_core.builtin.embeddings.onnx import Backend
from bagel_core.components import DedupBatch, Deduper, Duplicate

#: Items compared with each other and searched in the index at a time.
WALK_BATCH = 1024


class SemanticDeduper(Deduper):
    name = "semantic"
    requires_modules = ("faiss", "model2vec", "scipy", "sentence_transformers")
    description = (
        "Near-duplicates: cosine similarity of sentence embeddings (the embedding decontaminator's model and cache)."
    )

    @dataclass
    class Options:
        #: Cosine similarity at or above which an item is removed; 0.9 chosen on the dev set
        #: (docs/dedup.md): 0.15% of distinct items removed, 0.5% at 0.85.
        threshold: float = field(default=0.9, metadata={"min": 0.0, "max": 1.0})
        model: str = DEFAULT_MODEL
        backend: Backend = "torch"
        batch_size: int = field(default=128, metadata={"min": 1})
        max_tokens: int = field(default=256, metadata={"min": 8})
        device: str = ""

    options: Options

    def __init__(self, options: Options | None = None, cache_dir=None) -> None:
        super().__init__(options, cache_dir)
        o = self.options
        shared = Path(cache_dir).parent / EmbeddingDecontaminator.name if cache_dir is not None else None
        self._embedder = EmbeddingDecontaminator(
            EmbeddingDecontaminator.Options(
                model=o.model, backend=o.backend, batch_size=o.batch_size, max_tokens=o.max_tokens, device=o.device
            ),
            cache_dir=shared,
        )
        self._positions: list[np.ndarray] = []
        self._vectors: list[np.ndarray] = []  # float16 unit vectors: half the memory

    def add(self, batch: DedupBatch) -> None:
        present = [i for i, t in enumerate(batch.texts) if t and t.strip()]
        if not present:
            return
        self._positions.append(np.asarray(batch.positions, dtype=np.int64)[present])
        self._vectors.append(self._embedder.embed([batch.texts[i] for i in present]).astype(np.float16))

    def duplicates(self) -> Iterator[Duplicate]:
        if not self._positions:
            return
        import faiss

        positions = np.concatenate(self._positions)
        vectors = np.concatenate(self._vectors)
        self._positions, self._vectors = [], []
        order = np.argsort(positions, kind="stable")
        positions, vectors = positions[order], vectors[order]
        index = faiss.IndexFlatIP(vectors.shape[1])
        kept_positions: list[int] = []  # index row -> position
        threshold = self.options.threshold
        for start in range(0, len(positions), WALK_BATCH):
            chunk = vectors[start : start + WALK_BATCH].astype(np.float32)
            if index.ntotal:
                best_score, best_row = (a[:, 0] for a in index.search(chunk, 1))
            else:
                best_score, best_row = np.full(len(chunk), -np.inf), np.zeros(len(chunk), dtype=np.int64)
            within = chunk @ chunk.T
            kept_here: list[int] = []
            for i in range(len(chunk)):
                score, kept = float(best_score[i]), kept_positions[best_row[i]] if index.ntotal else -1
                if kept_here:
                    j = int(np.argmax(within[i, kept_here]))
                    if within[i, kept_here[j]] > score:
                        score, kept = float(within[i, kept_here[j]]), int(positions[start + kept_here[j]])
                if score >= threshold:
                    yield Duplicate(int(positions[start + i]), kept, min(score, 1.0))
                else:
                    kept_here.append(i)
            if kept_here:
                index.add(chunk[kept_here])
                kept_positions.extend(int(positions[start + i]) for i in kept_here)
