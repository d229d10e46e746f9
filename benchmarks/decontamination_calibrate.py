"""Choose the decontaminators' thresholds on the dev split of the development set and report
recall and false positives on the held-out split.

    .venv/bin/python benchmarks/decontamination_calibrate.py [--seed 0] [--cache-dir DIR] [--json OUT]

Steps (the development set: ``decontamination_devset.py``):

1. every benchmark view of the real test sets is indexed; every case's views go through the
   cascade with a wide first pass (static cosine >= ``--floor`` among the 8 nearest, word
   overlap >= ``--overlap``), and the transformer scores those pairs;
2. per ``benchmark/view``, the threshold is the lowest cosine that keeps the dev negatives
   (clean text, near-neighbour code) flagged through that view to at most ``--fp-per-view`` of
   them, never below ``--min-threshold``;
3. ``min_containment`` of the code decontaminator: the lowest containment at which at most
   ``--code-fp`` of the dev near-neighbour programs match; ``edit_min_words`` of the ngram
   decontaminator: the fewest words (3-8) at which its one-word-edit rule flags at most
   ``--fp-per-view`` dev negatives the n-grams alone do not;
4. the cascade's gates, one after the other, each the tightest value of its grid at which
   (a) the embedding alone still catches all but at most ``--gate-loss`` of the dev cases it
   catches through the wide pass with those thresholds (all gates together), and (b) the
   default set (ngram + embedding + code) still catches every dev case it catches with the wide
   pass: ``prefilter_threshold`` (static cosine, steps of 0.01), ``prefilter_length_ratio``
   (inf, 8, 6, 4, 3, 2, 1.5) and ``prefilter_overlap`` (word overlap, steps of 0.01). (Against the
   transformer on every view, ``prefilter = "none"``, the tests check on a smaller index that
   the cascade with the chosen gates loses no match.) The transformer pairs the gates let through per 1,000 dev negatives are
   printed with each value: what the cascade costs on clean text;
5. the table: recall per group and FP, dev and held-out, per decontaminator and for the default
   set (ngram + embedding + code) with the chosen values.

Transformer vectors are cached in ``--cache-dir``; the first run encodes ~60k texts (tens of
minutes on two CPU cores), later runs only redo the arithmetic.
"""

from __future__ import annotations

import argparse
import json
import math
import sys
import time
from collections import defaultdict
from pathlib import Path
from typing import NamedTuple

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent))
from decontamination_devset import NEGATIVE_GROUPS, POSITIVE_GROUPS, Case, build  # noqa: E402
from decontamination_texts import benchmark_items  # noqa: E402

from bagel_core.builtin.decontaminate_code import CodeDecontaminator  # noqa: E402
from bagel_core.builtin.decontaminate_embedding import EmbeddingDecontaminator  # noqa: E402
from bagel_core.builtin.decontaminate_ngram import NgramDecontaminator  # noqa: E402
from bagel_core.builtin.query_text import WINDOW_WORDS  # noqa: E402

GRID = [round(x, 2) for x in np.arange(0.50, 0.99, 0.01)]


class Scored(NamedTuple):
    """A pair of the wide first pass, with what each gate looks at."""

    benchmark: int
    cosine: float  #: transformer
    static: float
    overlap: float
    length_ratio: float  #: words of the query view over the benchmark view's, when the length rule applies; else 0


class Gates(NamedTuple):
    static: float = -2.0
    length_ratio: float = math.inf
    overlap: float = 0.0

    def keep(self, p: Scored) -> bool:
        return p.static >= self.static and p.length_ratio <= self.length_ratio and p.overlap >= self.overlap


def case_pairs(d: EmbeddingDecontaminator, cases: list[Case], floor: float, overlap: float) -> list[list[Scored]]:
    """Per case: its pairs from the wide first pass (static >= ``floor``, overlap >= ``overlap``,
    no length rule) that the transformer scores >= 0.6."""
    out: list[list[Scored]] = [[] for _ in cases]
    words = [len(b.text.split()) for b in d._benchmarks]
    batch = 2048
    for start in range(0, len(cases), batch):
        chunk = cases[start:start + batch]
        for p in d.scored_pairs([c.query for c in chunk], floor=floor, overlap=overlap, length_ratio=math.inf):
            if p.score >= 0.6:
                # The length rule leaves views longer than a window alone (no window holds them).
                ratio = 0.0 if words[p.benchmark] > WINDOW_WORDS else p.view.windowed_words / max(words[p.benchmark], 1)
                out[start + p.query].append(Scored(p.benchmark, p.score, p.prefilter, p.overlap, ratio))
    return out


def gate_pairs(d: EmbeddingDecontaminator, cases: list[Case], gates: Gates) -> float:
    """Transformer pairs the gates let through per 1,000 of ``cases``, all pairs counted
    (not only those the transformer scores >= 0.6)."""
    found = 0
    for start in range(0, len(cases), 2048):
        found += len(d.scored_pairs([c.query for c in cases[start:start + 2048]], floor=gates.static, overlap=gates.overlap,
                                    length_ratio=gates.length_ratio))
    return 1000 * found / max(len(cases), 1)


def choose_thresholds(cases, pairs, bench, args) -> dict[str, float]:
    keys = sorted({f"{b.benchmark}/{b.view}" for b in bench if b.role != "code"})
    negatives = [i for i, c in enumerate(cases) if c.benchmark is None and c.split == "dev"]
    worst: dict[str, list[float]] = defaultdict(list)  # key -> per dev negative, its best cosine via that key
    for i in negatives:
        per_key: dict[str, float] = {}
        for p in pairs[i]:
            key = f"{bench[p.benchmark].benchmark}/{bench[p.benchmark].view}"
            per_key[key] = max(per_key.get(key, -1.0), p.cosine)
        for key, cos in per_key.items():
            worst[key].append(cos)
    chosen = {}
    for key in keys:
        scores = sorted(worst.get(key, []), reverse=True)
        allowed = args.fp_per_view
        cut = scores[allowed] if len(scores) > allowed else -1.0  # the first negative that must stay below
        chosen[key] = round(max(args.min_threshold, min(args.max_threshold, math.floor(cut * 100 + 1) / 100)), 2)
    return chosen


def caught_embedding(case_pairs: list[Scored], bench, thresholds: dict[str, float], gates: Gates = Gates()) -> bool:
    return any(p.cosine >= thresholds[f"{bench[p.benchmark].benchmark}/{bench[p.benchmark].view}"] and gates.keep(p) for p in case_pairs)


def choose_gates(scores, bench, thresholds, must: list[int], others: set[int], gate_loss: int, floor: float, overlap: float) -> Gates:
    """The tightest gates, one after the other, that lose at most ``gate_loss`` of the ``must``
    cases for the embedding alone and none of those the ``others`` (ngram, code) do not catch."""
    needed = [i for i in must if i not in others]

    def fine(gates: Gates) -> bool:
        lost = [i for i in must if not caught_embedding(scores[i], bench, thresholds, gates)]
        return len(lost) <= gate_loss and not set(lost) & set(needed)

    gates = Gates(floor, math.inf, overlap)
    for value in (f for f in GRID if f >= floor):
        if fine(gates._replace(static=value)):
            gates = gates._replace(static=value)
    for value in (8.0, 6.0, 4.0, 3.0, 2.0, 1.5):
        if fine(gates._replace(length_ratio=value)):
            gates = gates._replace(length_ratio=value)
    for value in (round(x, 2) for x in np.arange(overlap, 0.9, 0.01)):
        if fine(gates._replace(overlap=value)):
            gates = gates._replace(overlap=value)
    return gates


def choose_edit_min_words(cases: list[Case], dev: list[int], bench_all, fp_per_view: int) -> NgramDecontaminator.Options:
    """The ngram decontaminator's ``edit_min_words``: the smallest (3-8) at which its
    one-word-edit rule flags at most ``fp_per_view`` dev negatives that the n-grams alone do
    not; the rule off when even 8 flags more."""
    negatives = [cases[i].query for i in dev if cases[i].benchmark is None]
    plain = NgramDecontaminator(NgramDecontaminator.Options(one_word_edit=False))
    plain.index(bench_all)
    already = {m.id for m in plain.search(negatives)}
    chosen = NgramDecontaminator.Options(one_word_edit=False)
    for words in range(8, 2, -1):
        d = NgramDecontaminator(NgramDecontaminator.Options(edit_min_words=words))
        d.index(bench_all)
        if len({m.id for m in d.search(negatives)} - already) > fp_per_view:
            break
        chosen = d.options
    print(f"ngram one_word_edit {chosen.one_word_edit}, edit_min_words {chosen.edit_min_words}", flush=True)
    return chosen


def share(found: int, total: int) -> str:
    return f"{100 * found / total:.1f}% ({found}/{total})" if total else "-"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--cache-dir", type=Path, default=Path("/tmp/bagel-decontamination-cache"))
    parser.add_argument("--fp-per-view", type=int, default=1, help="dev negatives a view's threshold may flag")
    parser.add_argument("--min-threshold", type=float, default=0.70)
    parser.add_argument("--max-threshold", type=float, default=0.95)
    parser.add_argument("--code-fp", type=float, default=0.02, help="share of dev near-neighbour programs allowed to match")
    parser.add_argument("--json", type=Path, help="write the chosen values and the table here")
    parser.add_argument("--floor", type=float, default=0.6, help="static cosine of the widest candidate search")
    parser.add_argument("--overlap", type=float, default=0.15, help="word overlap of the widest candidate search")
    parser.add_argument("--gate-loss", type=int, default=1, help="dev cases the embedding alone may lose to the gates")
    parser.add_argument("--per-group", type=int, default=300, help="cases per rephrase group")
    parser.add_argument("--clean", type=int, default=3000, help="clean texts (and half as many from unindexed sets)")
    parser.add_argument("--light", type=int, default=60, help="verbatim and light-edit cases per benchmark")
    parser.add_argument("--quick", action="store_true", help="a small set and index, to try the script out")
    args = parser.parse_args()
    started = time.perf_counter()
    sizes = dict(per_group=20, clean=200, code_negatives=20, light_per_benchmark=5) if args.quick else \
        dict(per_group=args.per_group, clean=args.clean, light_per_benchmark=args.light)
    cases = build(args.seed, **sizes)
    print(f"dev set built: {len(cases)} cases", flush=True)
    items = benchmark_items()
    if args.quick:
        wanted = {(c.benchmark, c.item) for c in cases}
        items = {name: [b for b in texts if (name, b.item) in wanted or hash(b.item) % 50 == 0] for name, texts in items.items()}
    bench_all = [b for texts in items.values() for b in texts]
    print(f"dev set: {len(cases)} cases; {len(bench_all)} benchmark views indexed")

    cascade = EmbeddingDecontaminator(EmbeddingDecontaminator.Options(), cache_dir=args.cache_dir)
    cascade.index(bench_all)
    bench = cascade._benchmarks
    scores = case_pairs(cascade, cases, floor=args.floor, overlap=args.overlap)
    print(f"transformer: {cascade.cache.encoded} texts encoded, {time.perf_counter() - started:.0f}s so far", flush=True)
    thresholds = choose_thresholds(cases, scores, bench, args)
    dev = [i for i, c in enumerate(cases) if c.split == "dev"]
    code = CodeDecontaminator()
    code.index(bench_all)
    containment = []
    for c in cases:
        found = list(code.search([c.query]) if c.query else [])
        containment.append(found[0].score if found else 0.0)
    code_min = code.options.min_containment
    neighbours = [i for i in dev if cases[i].group == "near-neighbour code"]
    for f in sorted(GRID + [0.99, 1.0], reverse=True):
        if sum(containment[i] >= f for i in neighbours) <= args.code_fp * len(neighbours):
            code_min = f
    code_min = max(code_min, 0.5)
    print(f"code min_containment: {code_min}")
    tuned_code = CodeDecontaminator(CodeDecontaminator.Options(min_containment=code_min))
    tuned_code.index(bench_all)
    ngram = NgramDecontaminator(choose_edit_min_words(cases, dev, bench_all, args.fp_per_view))
    ngram.index(bench_all)
    others = {cases[i].query.id for i in dev} & ({m.id for m in ngram.search([cases[i].query for i in dev])}
                                                  | {m.id for m in tuned_code.search([cases[i].query for i in dev])})
    must = [i for i in dev if caught_embedding(scores[i], bench, thresholds)]
    gates = choose_gates(scores, bench, thresholds, must, {i for i in must if cases[i].query.id in others}, args.gate_loss,
                         args.floor, args.overlap)
    lost = [i for i in must if not caught_embedding(scores[i], bench, thresholds, gates)]
    print(f"gates {gates._asdict()}: the embedding alone keeps {len(must) - len(lost)} of the {len(must)} dev cases its wide pass "
          f"catches; the default set keeps all it catches", flush=True)
    negatives = [cases[i] for i in dev if cases[i].benchmark is None]
    for label, g in (("wide pass", Gates(args.floor, math.inf, args.overlap)), ("+ static", Gates(gates.static, math.inf, args.overlap)),
                     ("+ length ratio", gates._replace(overlap=args.overlap)), ("+ overlap (chosen)", gates)):
        print(f"transformer pairs per 1,000 dev negatives, {label}: {gate_pairs(cascade, negatives, g):.0f}", flush=True)

    rows = []
    for group in POSITIVE_GROUPS + NEGATIVE_GROUPS:
        row = {"group": group}
        for split in ("dev", "held-out"):
            idx = [i for i, c in enumerate(cases) if c.group == group and c.split == split]
            queries = [cases[i].query for i in idx]
            by_ngram = {m.id for m in ngram.search(queries)}
            by_code = {m.id for m in tuned_code.search(queries)}
            emb = {cases[i].query.id for i in idx if caught_embedding(scores[i], bench, thresholds, gates)}
            union = by_ngram | by_code | emb
            row[split] = {"n": len(idx), "ngram": len(by_ngram), "embedding": len(emb), "code": len(by_code), "default set": len(union)}
        rows.append(row)
    cols = ("ngram", "embedding", "code", "default set")
    print("\n| group | split | n | " + " | ".join(cols) + " |")
    print("|---|---|---|" + "---|" * len(cols))
    for row in rows:
        for split in ("dev", "held-out"):
            r = row[split]
            print(f"| {row['group']} | {split} | {r['n']} | " + " | ".join(share(r[c], r['n']) for c in cols) + " |")
    print("\nthresholds (benchmark/view):")
    print(json.dumps(thresholds, indent=1, sort_keys=True))
    print(f"\ntotal {time.perf_counter() - started:.0f}s")
    if args.json:
        args.json.write_text(json.dumps({"thresholds": thresholds, "prefilter_threshold": gates.static,
                                         "prefilter_length_ratio": gates.length_ratio, "prefilter_overlap": gates.overlap,
                                         "code_min_containment": code_min, "ngram_one_word_edit": ngram.options.one_word_edit,
                                         "ngram_edit_min_words": ngram.options.edit_min_words,
                                         "rows": rows}, indent=1))


if __name__ == "__main__":
    main()
