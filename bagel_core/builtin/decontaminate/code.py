"""The ``code`` decontaminator: programs compared after normalisation (:mod:`.code_match`).

Benchmark views of role ``code`` (HumanEval's prompt plus canonical solution) are indexed as
sets of shingles of their normalised tokens. Every program found in an item (fenced code blocks
or bare code, in its human turns and answers) is normalised the same way; the item matches a
benchmark program when at least ``min_containment`` of that program's shingles occur in the
item's code (each shingle weighted by its rarity among the benchmark programs: ``log((1 + N) /
df) + 1``, so the loop headers every program shares count less than what is its own), and the program has at least ``min_shingles`` shingles (a two-line program
normalises to what countless unrelated programs also contain).

Shared structure alone is not the same task: a utility of the same kind that solves another
problem shares loop headers and builtins with a benchmark program. So a match below
``min_containment_alone`` also needs evidence of the *same task* (:func:`.code_match.task_evidence`):
a function with the benchmark's annotated signature, or a distinctive constant of the
benchmark's code or docstring examples (not 0, 1, small integers, "" or True). Renaming identifiers, dropping
or rewording the docstring and comments, reformatting, and the rewrites :mod:`.code_match`
undoes leave the shingles as they were. The docstring's prose is compared by the
``embedding`` decontaminator (HumanEval's ``docstring`` view).
"""

from __future__ import annotations

import math
from collections import Counter, defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field

from bagel_core.builtin.decontaminate.code_match import (
    program_shingles,
    programs_evidence,
    task_evidence,
    text_shingles,
)
from bagel_core.components import BenchmarkText, Decontaminator, Match, Query


class CodeDecontaminator(Decontaminator):
    name = "code"
    description = (
        "Programs compared by shingles of normalised tokens (identifiers, comments, docstrings, layout ignored)."
    )

    @dataclass
    class Options:
        #: Share of a benchmark program's shingles the item's code must hold, with evidence of the
        #: same task (signature or constants); chosen by measurement.
        min_containment: float = field(default=0.4, metadata={"min": 0.0, "max": 1.0})
        #: Share that matches without that evidence (above 1: never); chosen by measurement.
        min_containment_alone: float = field(default=1.01, metadata={"min": 0.0, "max": 1.01})
        #: Benchmark programs with fewer shingles are not indexed (too short to tell apart).
        min_shingles: int = field(default=8, metadata={"min": 1})

    options: Options

    def __init__(self, options: Options | None = None, cache_dir=None) -> None:
        super().__init__(options, cache_dir)
        self._benchmarks: list[BenchmarkText] = []
        self._sizes: list[float] = []
        self._postings: dict[int, list[int]] = {}
        self._weight: dict[int, float] = {}
        self._evidence: list[tuple[frozenset, frozenset]] = []

    def index(self, benchmarks: Sequence[BenchmarkText]) -> None:
        self._benchmarks = [b for b in benchmarks if b.role == "code"]
        programs = [program_shingles(b.text) for b in self._benchmarks]
        self._evidence = [task_evidence(b.text) for b in self._benchmarks]
        programs = [p if len(p) >= self.options.min_shingles else set() for p in programs]
        # A shingle many benchmark programs share (``for V in V :``) says little: weight by rarity.
        df = Counter(h for p in programs for h in p)
        self._weight = {h: math.log((1 + len(programs)) / count) + 1.0 for h, count in df.items()}
        self._sizes = [sum(self._weight[h] for h in p) for p in programs]
        self._postings = {}
        for i, p in enumerate(programs):
            for h in p:
                self._postings.setdefault(h, []).append(i)

    def search(self, queries: Sequence[Query]) -> Iterable[Match]:
        if not self._postings:
            return []
        o = self.options
        out = []
        for q in queries:
            views = [(f"turn{n}", t) for n, t in enumerate(q.human_turns or (q.text,), 1)]
            views += [(f"answer{n}", t) for n, t in enumerate(q.answers, 1)]
            best: tuple[float, int, str, str] | None = None
            for name, text in views:
                found = text_shingles([text])
                if not found:
                    continue
                hits: defaultdict[int, float] = defaultdict(float)  # program -> containment weight
                for h in found:
                    for i in self._postings.get(h, ()):
                        hits[i] += self._weight[h]
                evidence = None
                for i, weight in sorted(hits.items(), key=lambda kv: -kv[1] / self._sizes[kv[0]]):
                    score = weight / self._sizes[i]
                    if score < o.min_containment or (best is not None and score <= best[0]):
                        break
                    if score < o.min_containment_alone:
                        evidence = evidence or programs_evidence(text)
                        signatures, literals = self._evidence[i]
                        if not (evidence[0] & signatures or evidence[1] & literals):
                            continue
                    best = (score, i, name, text)
                    break
            if best is not None:
                score, i, name, text = best
                b = self._benchmarks[i]
                out.append(
                    Match(q.id, q.source, self.name, b.benchmark, b.item, score, text, b.text, f"{b.view}<-{name}")
                )
        return out
