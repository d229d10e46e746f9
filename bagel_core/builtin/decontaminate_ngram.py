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

N-grams are kept as Python hashes of word tuples in a dict (hash -> benchmark item), built and
probed in one process, so a query costs one regex pass and C-level set probes.
"""

from __future__ import annotations

import re
import unicodedata
from collections import Counter
from dataclasses import dataclass, field
from typing import Iterable, Iterator, Optional, Sequence

from ..components import BenchmarkText, Decontaminator, Match, Query
from .query_text import QueryText, query_views

_WORD = re.compile(r"[^\W_]+")
# Combining diacritics left by NFKD: "café" and "cafe" are the same word.
_MARK = re.compile(r"[\u0300-\u036f]")


def words(text: str) -> list[str]:
    """The normalised words of ``text``."""
    if text.isascii():
        return _WORD.findall(text.lower())
    return _WORD.findall(_MARK.sub("", unicodedata.normalize("NFKD", text)).casefold())


def gram_hashes(ws: Sequence[str], n: int) -> Iterator[int]:
    """Hashes of the ``n``-word windows of ``ws`` (none when ``ws`` is shorter than ``n``)."""
    return map(hash, zip(*(ws[i:] for i in range(n))))


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

    def __init__(self, options: Optional[Options] = None, cache_dir=None) -> None:
        super().__init__(options, cache_dir)
        self._benchmarks: list[BenchmarkText] = []
        self._grams: dict[int, int] = {}  # n-gram hash -> benchmark index (first holder)
        self._short: dict[int, list[int]] = {}  # first min_words words of a short text -> indices
        self._short_words: dict[int, tuple[str, ...]] = {}
        self._exact: dict[int, int] = {}  # hash of all the words -> benchmark index
        # A short text's words, whole and with each word left out (hashed) -> benchmark indices.
        self._near: dict[int, list[int]] = {}

    def index(self, benchmarks: Sequence[BenchmarkText]) -> None:
        n, m = self.options.n, self.options.min_words
        self._benchmarks = list(benchmarks)
        for i, b in enumerate(self._benchmarks):
            ws = words(b.text)
            if not ws:
                continue
            self._exact.setdefault(hash(tuple(ws)), i)
            if len(ws) >= n:
                for h in gram_hashes(ws, n):
                    self._grams.setdefault(h, i)
            else:
                if len(ws) >= m:
                    self._short.setdefault(hash(tuple(ws[:m])), []).append(i)
                if self.options.one_word_edit and len(ws) >= self.options.edit_min_words:
                    for h in _without_one(ws):
                        self._near.setdefault(h, []).append(i)
                self._short_words[i] = tuple(ws)

    def search(self, queries: Sequence[Query]) -> Iterable[Match]:
        for q in queries:
            best: Optional[tuple[float, int, str, str]] = None
            for view in query_views(q, self.options.query_text, self.options.answers, with_windows=False):
                found = self._match(words(view.text))
                if found is not None and (best is None or found[0] > best[0]):
                    best = (*found, view.text, view.name)
            if best is not None:
                score, i, text, name = best
                b = self._benchmarks[i]
                yield Match(q.id, q.source, self.name, b.benchmark, b.item, score, text, b.text, f"{b.view}<-{name}")

    def _match(self, ws: list[str]) -> Optional[tuple[float, int]]:
        """(score, benchmark index) of the best match of the words ``ws``, if any."""
        if not ws:
            return None
        exact = self._exact.get(hash(tuple(ws)))
        if exact is not None:
            return 1.0, exact
        n, m = self.options.n, self.options.min_words
        if len(ws) >= n and not self._grams.keys().isdisjoint(gram_hashes(ws, n)):
            hits = [self._grams[h] for h in gram_hashes(ws, n) if h in self._grams]
            score = len(hits) / (len(ws) - n + 1)
            if score >= self.options.min_fraction:
                return score, Counter(hits).most_common(1)[0][0]
        if len(ws) >= m and not self._short.keys().isdisjoint(gram_hashes(ws, m)):
            for start, h in enumerate(gram_hashes(ws, m)):
                for i in self._short.get(h, ()):
                    quoted = self._short_words[i]
                    if tuple(ws[start:start + len(quoted)]) == quoted:
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
        yield hash(tuple(ws[:k]) + tuple(ws[k + 1:]))


def one_edit_apart(a: Sequence[str], b: Sequence[str]) -> bool:
    """Whether the word sequences differ by exactly one word deleted, inserted or changed."""
    if abs(len(a) - len(b)) > 1 or tuple(a) == tuple(b):
        return False
    k = 0
    while k < min(len(a), len(b)) and a[k] == b[k]:
        k += 1
    if len(a) == len(b):
        return tuple(a[k + 1:]) == tuple(b[k + 1:])
    if len(a) > len(b):
        return tuple(a[k + 1:]) == tuple(b[k:])
    return tuple(a[k:]) == tuple(b[k + 1:])
