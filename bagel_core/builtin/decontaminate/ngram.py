"""The ``ngram`` decontaminator: word n-gram overlap after normalisation, as lm-evaluation-harness.

Texts are normalised to words: Unicode compatibility-decomposed with Latin diacritics dropped,
case-folded, and split on anything that is not a letter or digit (punctuation, underscores and
whitespace runs all fold to one separator). A query matches a benchmark text when

- it shares at least one n-gram (n = 13 by default) with it, or at least ``min_fraction`` of the
  query's n-grams when that option is above 0;
- the benchmark text has fewer than n words but at least ``min_words``: when the query contains
  all of its words as one contiguous run (the whole benchmark text is quoted);
- either text is shorter still: when both normalise to exactly the same words;
- with ``one_word_edit`` (on by default), the benchmark text has fewer than n words but at least
  ``edit_min_words``: when the query text is that text with one word deleted, inserted or
  changed (a light edit of a short question, which no n-gram survives). A changed word can make
  a short text another question; ``edit_min_words`` is chosen so that this stays rare on real
  clean text.

N-grams are kept as 64-bit rolling hashes of the words' hashes in a dict (hash -> benchmark
item), built and probed in one process. A batch of queries is probed at once with numpy: the
window hashes of every view of the batch in a few array operations and one sorted lookup, so
only the views that share an n-gram (or quote a short text) go on to the per-word checks.
"""

from __future__ import annotations

import re
import unicodedata
from collections import Counter
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass, field

import numpy as np

from bagel_core.builtin.decontaminate.query_text import QueryText, query_views
from bagel_core.components import BenchmarkText, Decontaminator, Match, Query

_WORD = re.compile(r"[^\W_]+")
# Combining diacritics left by NFKD: "café" and "cafe" are the same word.
_MARK = re.compile(r"[\u0300-\u036f]")


def words(text: str) -> list[str]:
    """The normalised words of ``text``."""
    if text.isascii():
        return _WORD.findall(text.lower())
    return _WORD.findall(_MARK.sub("", unicodedata.normalize("NFKD", text)).casefold())


#: Texts (index) or queries (search) whose words are held at once: enough for numpy to pay
#: off, few enough that the words of a whole batch are not all in memory.
_CHUNK = 512
#: Multiplier of the rolling hash (odd, so no information is lost modulo 2**64).
_BASE = np.uint64(0x9E3779B97F4A7C15)


def window_hashes(word_hashes: np.ndarray, n: int) -> np.ndarray:
    """Hash of each ``n``-word window of a sequence of word hashes (uint64; empty when the
    sequence is shorter than ``n``): ``sum(w[i + j] * BASE ** (n - 1 - j))`` modulo 2**64."""
    count = len(word_hashes) - n + 1
    if count <= 0:
        return np.zeros(0, np.uint64)
    out = word_hashes[:count].copy()
    for j in range(1, n):
        out *= _BASE
        out += word_hashes[j : j + count]
    return out


def word_hashes(ws: Sequence[str]) -> np.ndarray:
    return np.fromiter(map(hash, ws), np.int64, len(ws)).view(np.uint64)


def gram_hashes(ws: Sequence[str], n: int) -> list[int]:
    """Hashes of the ``n``-word windows of ``ws`` (none when ``ws`` is shorter than ``n``)."""
    return window_hashes(word_hashes(ws), n).tolist()


def _windows_of(texts: Sequence[Sequence[str]], k: int) -> tuple[np.ndarray, np.ndarray]:
    """The hashes of the ``k``-word windows of all ``texts`` at once, in order, and the index
    in ``texts`` of the text each window is in (no window spans two texts)."""
    lengths = np.fromiter(map(len, texts), np.int64, len(texts))
    owner = np.repeat(np.arange(len(texts)), lengths)
    hashes = window_hashes(word_hashes([w for ws in texts for w in ws]), k)
    inside = owner[: len(hashes)] == owner[k - 1 :] if len(hashes) else np.zeros(0, bool)
    return hashes[inside], owner[: len(hashes)][inside]


def _sorted_keys(table: dict) -> np.ndarray:
    return np.sort(np.fromiter(table.keys(), np.uint64, len(table)))


def _holds(keys: np.ndarray, hashes: np.ndarray) -> np.ndarray:
    """Which of ``hashes`` are in the sorted array ``keys``."""
    held = np.zeros(len(hashes), bool)
    if not len(keys) or not len(hashes):
        return held
    # Sorted needles walk the keys in order (numpy's search starts from the last hit): about
    # 6x faster than probing in text order, whose every probe misses the cache.
    order = np.argsort(hashes)
    needles = hashes[order]
    at = np.minimum(np.searchsorted(keys, needles), len(keys) - 1)
    held[order] = keys[at] == needles
    return held


class NgramDecontaminator(Decontaminator):
    name = "ngram"
    description = "Word n-gram overlap (n=13) after lower-casing and folding punctuation and whitespace."

    @dataclass
    class Options:
        #: Words per n-gram; 13 as in lm-evaluation-harness.
        n: int = field(default=13, metadata={"help": "Words per n-gram.", "min": 1})
        #: 0: one shared n-gram matches; else the share of the query's n-grams that must be shared.
        min_fraction: float = field(default=0.0, metadata={"min": 0.0, "max": 1.0})
        #: Benchmark texts of min_words..n-1 words match when quoted whole; shorter ones only exactly.
        min_words: int = field(default=8, metadata={"min": 1})
        #: Short benchmark texts also match a query text one word away (deleted, inserted, changed).
        one_word_edit: bool = True
        #: Words a benchmark text needs for ``one_word_edit``; chosen by measurement.
        edit_min_words: int = field(default=5, metadata={"min": 2})
        #: ``first``: the first human turn / DPO prompt (as the reference); ``all``: every human turn.
        query_text: QueryText = "all"
        #: Also check the answers (assistant turns; a DPO pair's chosen and rejected).
        answers: bool = True

    options: Options

    def __init__(self, options: Options | None = None, cache_dir=None) -> None:
        super().__init__(options, cache_dir)
        self._benchmarks: list[BenchmarkText] = []
        self._grams: dict[int, int] = {}  # n-gram hash -> benchmark index (first holder)
        self._short: dict[int, list[int]] = {}  # first min_words words of a short text -> indices
        self._short_words: dict[int, tuple[str, ...]] = {}
        self._exact: dict[int, int] = {}  # hash of all the words -> benchmark index
        # A short text's words, whole and with each word left out (hashed) -> benchmark indices.
        self._near: dict[int, list[int]] = {}
        # The keys of _grams and _short, sorted, for probing a batch at once.
        self._gram_keys = self._short_keys = np.zeros(0, np.uint64)

    def index(self, benchmarks: Sequence[BenchmarkText]) -> None:
        n = self.options.n
        self._benchmarks = list(benchmarks)
        # The n-grams of the long texts, a chunk of texts at a time (their words are not all
        # held at once); each hash keeps its first holder.
        hashes, holders = [np.zeros(0, np.uint64)], [np.zeros(0, np.int64)]
        for start in range(0, len(self._benchmarks), _CHUNK):
            texts = [words(b.text) for b in self._benchmarks[start : start + _CHUNK]]
            long = [j for j, ws in enumerate(texts) if len(ws) >= n]
            found, owner = _windows_of([texts[j] for j in long], n)
            hashes.append(found)
            holders.append(np.asarray(long, np.int64)[owner] + start)
            for j, ws in enumerate(texts):
                self._index_short(start + j, ws)
        unique, first = np.unique(np.concatenate(hashes), return_index=True)
        holder = np.concatenate(holders)[first]
        del hashes, holders, first
        earlier = bool(self._grams)  # a second index() call: earlier holders stay
        indices = list(range(len(self._benchmarks)))  # one int object per holder, shared
        for start in range(0, len(unique), 64 * _CHUNK):  # a slice of Python ints at a time
            pairs = zip(
                unique[start : start + 64 * _CHUNK].tolist(),
                map(indices.__getitem__, holder[start : start + 64 * _CHUNK].tolist()),
            )
            if earlier:
                for h, i in pairs:
                    self._grams.setdefault(h, i)
            else:
                self._grams.update(pairs)
        self._gram_keys, self._short_keys = _sorted_keys(self._grams), _sorted_keys(self._short)

    def _index_short(self, i: int, ws: list[str]) -> None:
        """Index text ``i`` (its words ``ws``) whole, and if it is short, its start and its
        one-word edits."""
        n, m = self.options.n, self.options.min_words
        if not ws:
            return
        self._exact.setdefault(hash(tuple(ws)), i)
        if len(ws) < n:
            if len(ws) >= m:
                self._short.setdefault(gram_hashes(ws[:m], m)[0], []).append(i)
            if self.options.one_word_edit and len(ws) >= self.options.edit_min_words:
                for h in _without_one(ws):
                    self._near.setdefault(h, []).append(i)
            self._short_words[i] = tuple(ws)

    def search(self, queries: Sequence[Query]) -> Iterable[Match]:
        queries = list(queries)
        for start in range(0, len(queries), _CHUNK):
            yield from self._search(queries[start : start + _CHUNK])

    def _search(self, queries: Sequence[Query]) -> Iterable[Match]:
        n, m = self.options.n, self.options.min_words
        views = [
            (k, view, words(view.text))
            for k, q in enumerate(queries)
            for view in query_views(q, self.options.query_text, self.options.answers, with_windows=False)
        ]
        # Every view's windows in one array, then which views hold a benchmark n-gram (or the
        # start of a short benchmark text).
        texts = [ws for _, _, ws in views]
        grams, shorts = (self._probe(texts, k, keys) for k, keys in ((n, self._gram_keys), (m, self._short_keys)))
        found_of: list[tuple[float, int, str, str] | None] = [None] * len(queries)
        for v, (k, view, ws) in enumerate(views):
            found = self._match(ws, grams[v], shorts[v])
            best = found_of[k]
            if found is not None and (best is None or found[0] > best[0]):
                found_of[k] = (*found, view.text, view.name)
        for q, best in zip(queries, found_of):
            if best is not None:
                score, i, text, name = best
                b = self._benchmarks[i]
                yield Match(q.id, q.source, self.name, b.benchmark, b.item, score, text, b.text, f"{b.view}<-{name}")

    @staticmethod
    def _probe(texts: Sequence[Sequence[str]], k: int, keys: np.ndarray) -> list[list[int] | None]:
        """Per text, the hashes of its ``k``-word windows if one of them is in ``keys``, else None."""
        found: list[list[int] | None] = [None] * len(texts)
        hashes, owner = _windows_of(texts, k)
        held = np.flatnonzero(_holds(keys, hashes))
        if len(held):
            # Windows are in text order: each text's run is owner's run of its index.
            starts = np.searchsorted(owner, np.arange(len(texts) + 1))
            for v in np.unique(owner[held]).tolist():
                found[v] = hashes[starts[v] : starts[v + 1]].tolist()
        return found

    def _match(self, ws: list[str], grams: list[int] | None, shorts: list[int] | None) -> tuple[float, int] | None:
        """(score, benchmark index) of the best match of the words ``ws``, if any; ``grams``,
        ``shorts``: the hashes of its n- and ``min_words``-word windows when one of them is
        indexed (None: none is)."""
        if not ws:
            return None
        exact = self._exact.get(hash(tuple(ws)))
        if exact is not None:
            return 1.0, exact
        n = self.options.n
        if grams is not None:
            hits = [self._grams[h] for h in grams if h in self._grams]
            score = len(hits) / (len(ws) - n + 1)
            if score >= self.options.min_fraction:
                return score, Counter(hits).most_common(1)[0][0]
        if shorts is not None:
            for start, h in enumerate(shorts):
                for i in self._short.get(h, ()):
                    quoted = self._short_words[i]
                    if tuple(ws[start : start + len(quoted)]) == quoted:
                        return 1.0, i
        if self._near and len(ws) <= n:
            for h in _without_one(ws):
                for i in self._near.get(h, ()):
                    words_of = self._short_words[i]
                    if one_edit_apart(ws, words_of):
                        return 1.0 - 1.0 / len(words_of), i
        return None


def _without_one(ws: Sequence[str]) -> Iterator[int]:
    """Hashes of ``ws`` and of ``ws`` with each word left out in turn: two texts one word
    apart share one of them (symmetric deletion)."""
    yield hash(tuple(ws))
    for k in range(len(ws)):
        yield hash(tuple(ws[:k]) + tuple(ws[k + 1 :]))


def one_edit_apart(a: Sequence[str], b: Sequence[str]) -> bool:
    """Whether the word sequences differ by exactly one word deleted, inserted or changed."""
    if abs(len(a) - len(b)) > 1 or tuple(a) == tuple(b):
        return False
    k = 0
    while k < min(len(a), len(b)) and a[k] == b[k]:
        k += 1
    if len(a) == len(b):
        return tuple(a[k + 1 :]) == tuple(b[k + 1 :])
    if len(a) > len(b):
        return tuple(a[k + 1 :]) == tuple(b[k:])
    return tuple(a[k:]) == tuple(b[k + 1 :])
