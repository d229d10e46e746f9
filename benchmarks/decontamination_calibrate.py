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
3. ``prefilter_threshold`` is the highest static cosine (in steps of 0.01), then
   ``prefilter_overlap`` the highest word overlap, at which the cascade still finds every dev
   case the wide pass finds with those thresholds (that the cascade loses
   nothing against the transformer on every view is checked by the tests, on a smaller index);
4. ``min_containment`` of the code decontaminator: the lowest containment at which at most
   ``--code-fp`` of the dev near-neighbour programs match;
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

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent))
from decontamination_devset import NEGATIVE_GROUPS, POSITIVE_GROUPS, Case, build  # noqa: E402
from decontamination_texts import benchmark_items  # noqa: E402

from bagel_core.builtin.decontaminate_code import CodeDecontaminator  # noqa: E402
from bagel_core.builtin.decontaminate_embedding import EmbeddingDecontaminator  # noqa: E402
from bagel_core.builtin.decontaminate_ngram import NgramDecontaminator  # noqa: E402

GRID = [round(x, 2) for x in np.arange(0.50, 0.99, 0.01)]


def case_pairs(d: EmbeddingDecontaminator, cases: list[Case], floor: float, overlap: float) -> list[list[tuple[int, float, float, float]]]:
    """Per case: its scored pairs (benchmark index, transformer cosine, static cosine, word
    overlap) from the wide first pass (static >= ``floor``, overlap >= ``overlap``), cosine >= 0.6."""
    out: list[list[tuple[int, float, float, float]]] = [[] for _ in cases]
    batch = 2048
    for start in range(0, len(cases), batch):
        chunk = cases[start:start + batch]
        for p in d.scored_pairs([c.query for c in chunk], floor=floor, overlap=overlap):
            if p.score >= 0.6:
                out[start + p.query].append((p.benchmark, p.score, p.prefilter, p.overlap))
    return out


def choose_thresholds(cases, pairs, bench, args) -> dict[str, float]:
    keys = sorted({f"{b.benchmark}/{b.view}" for b in bench if b.role != "code"})
    negatives = [i for i, c in enumerate(cases) if c.benchmark is None and c.split == "dev"]
    worst: dict[str, list[float]] = defaultdict(list)  # key -> per dev negative, its best cosine via that key
    for i in negatives:
        per_key: dict[str, float] = {}
        for b, cos, _, _ in pairs[i]:
            key = f"{bench[b].benchmark}/{bench[b].view}"
            per_key[key] = max(per_key.get(key, -1.0), cos)
        for key, cos in per_key.items():
            worst[key].append(cos)
    chosen = {}
    for key in keys:
        scores = sorted(worst.get(key, []), reverse=True)
        allowed = args.fp_per_view
        cut = scores[allowed] if len(scores) > allowed else -1.0  # the first negative that must stay below
        chosen[key] = round(max(args.min_threshold, min(args.max_threshold, math.floor(cut * 100 + 1) / 100)), 2)
    return chosen


def caught_embedding(case_pairs: list, bench, thresholds: dict[str, float], floor: float = -2.0, overlap: float = 0.0) -> bool:
    return any(cos >= thresholds[f"{bench[b].benchmark}/{bench[b].view}"] and static >= floor and lexical >= overlap
               for b, cos, static, lexical in case_pairs)


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
    must = [i for i in dev if caught_embedding(scores[i], bench, thresholds)]
    prefilter = args.floor
    for f in GRID:
        if f >= args.floor and all(caught_embedding(scores[i], bench, thresholds, f) for i in must):
            prefilter = f
    overlap = args.overlap
    for w in [round(x, 2) for x in np.arange(args.overlap, 0.9, 0.01)]:
        if all(caught_embedding(scores[i], bench, thresholds, prefilter, w) for i in must):
            overlap = w
    print(f"prefilter_threshold {prefilter}, prefilter_overlap {overlap}: all {len(must)} dev cases caught by the wide pass kept", flush=True)

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
    ngram = NgramDecontaminator(NgramDecontaminator.Options(query_text="all"))
    ngram.index(bench_all)

    rows = []
    for group in POSITIVE_GROUPS + NEGATIVE_GROUPS:
        row = {"group": group}
        for split in ("dev", "held-out"):
            idx = [i for i, c in enumerate(cases) if c.group == group and c.split == split]
            queries = [cases[i].query for i in idx]
            by_ngram = {m.id for m in ngram.search(queries)}
            by_code = {m.id for m in tuned_code.search(queries)}
            emb = {cases[i].query.id for i in idx if caught_embedding(scores[i], bench, thresholds, prefilter, overlap)}
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
        args.json.write_text(json.dumps({"thresholds": thresholds, "prefilter_threshold": prefilter, "prefilter_overlap": overlap,
                                         "code_min_containment": code_min,
                                         "rows": rows}, indent=1))


if __name__ == "__main__":
    main()
