"""The decontamination table of issue 23: the default decontaminators (``ngram``, ``embedding``,
``code``, at their defaults, against every view of the real benchmark sets) on LLM-written
rephrases of real test items (the LMSYS llm-decontaminator release,
``decontamination_lmsys.py``) and on real clean text (the clean negatives of the rule-built
development set, ``decontamination_devset.py``: MMLU auxiliary-train, Spider, EmoBank rows of
``../shared/data/sources``, BoolQ, PIQA, OpenBookQA), per split (``dev`` / ``held-out``, by a
hash of the benchmark item).

    .venv/bin/python benchmarks/decontamination_table.py [--cache-dir DIR] [--rule-built] [--json OUT]

A positive case counts as caught when a decontaminator flags it (the stage removes it, whatever
benchmark item it names); a negative counts as flagged the same way. ``--rule-built`` adds
every group of the rule-built set (light edits, verbatim copies, its rule-based rephrases).
Transformer vectors are cached in ``--cache-dir`` (and the distilled static model), so a rerun
encodes nothing twice.
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
import decontamination_devset as rule_built  # noqa: E402
import decontamination_lmsys as lmsys  # noqa: E402
from decontamination_texts import benchmark_items  # noqa: E402

from bagel_core.builtin.decontaminate.code import CodeDecontaminator  # noqa: E402
from bagel_core.builtin.decontaminate.embedding import EmbeddingDecontaminator  # noqa: E402
from bagel_core.builtin.decontaminate.ngram import NgramDecontaminator  # noqa: E402

#: The issue's goals per group: (minimum share caught) or (maximum share flagged) for negatives.
GOALS = {
    "gsm8k": ">= 95%",
    "clean text": "<= 1%",
    "codealpaca non-rephrase": "<= 5%",
    "humaneval sig+docstring": ">= 90%",
    "humaneval whole program": ">= 90%",
    "mmlu high_school_us_history question only": ">= 90%",
}
DECONTAMINATORS = ("ngram", "embedding", "code")
BATCH = 2048


def goal_of(group: str) -> str:
    if group in GOALS:
        return GOALS[group]
    return ">= 95%" if group.startswith("mmlu ") else ""


def cases(rule_groups: bool, seed: int = 0) -> list[rule_built.Case]:
    out = lmsys.build()
    wanted = set(rule_built.POSITIVE_GROUPS + rule_built.NEGATIVE_GROUPS) if rule_groups else {"clean text"}
    out += [c for c in rule_built.build(seed) if c.group in wanted]
    return out


def flagged(cases_: list, cache_dir: Path) -> dict[str, dict[str, dict]]:
    """Decontaminator -> case id -> its match (benchmark, item, score, views)."""
    bench = [b for texts in benchmark_items().values() for b in texts]
    out: dict[str, dict[str, dict]] = {}
    for name in DECONTAMINATORS:
        started = time.perf_counter()
        if name == "embedding":
            d = EmbeddingDecontaminator(cache_dir=cache_dir)
        else:
            d = {"ngram": NgramDecontaminator, "code": CodeDecontaminator}[name]()
        d.index(bench)
        found: dict[str, dict] = {}
        for start in range(0, len(cases_), BATCH):
            for m in d.search([c.query for c in cases_[start : start + BATCH]]):
                found[m.id] = {
                    "benchmark": m.benchmark,
                    "item": m.benchmark_item,
                    "score": round(m.score, 4),
                    "views": m.views,
                }
        out[name] = found
        print(f"{name}: {len(found)} flagged, {time.perf_counter() - started:.0f}s", flush=True)
    return out


def share(found: int, total: int) -> str:
    return f"{100 * found / total:.1f}% ({found}/{total})" if total else "-"


def table(cases_: list, found: dict[str, dict[str, dict]]) -> list[str]:
    groups = list(dict.fromkeys(c.group for c in cases_))
    negatives = {g for g in groups if g in lmsys.NEGATIVE_GROUPS or g in rule_built.NEGATIVE_GROUPS}
    order = [g for g in groups if g not in negatives] + [g for g in groups if g in negatives]
    cols = DECONTAMINATORS + ("default set",)
    lines = ["| group | split | n | " + " | ".join(cols) + " | goal |", "|---|---|---|" + "---|" * len(cols) + "---|"]
    for group in order:
        for split in ("dev", "held-out"):
            ids = [c.query.id for c in cases_ if c.group == group and c.split == split]
            counts = [sum(i in found[d] for i in ids) for d in DECONTAMINATORS]
            counts.append(sum(any(i in found[d] for d in DECONTAMINATORS) for i in ids))
            label = f"{group} (flagged)" if group in negatives else group
            lines.append(
                f"| {label} | {split} | {len(ids)} | "
                + " | ".join(share(n, len(ids)) for n in counts)
                + f" | {goal_of(group)} |"
            )
    return lines


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--cache-dir", type=Path, default=Path("/tmp/bagel-decontamination-cache"))
    parser.add_argument("--rule-built", action="store_true", help="add every group of the rule-built development set")
    parser.add_argument("--json", type=Path, help="write every case's matches here (for inspection)")
    args = parser.parse_args()
    if not lmsys.available():
        sys.exit(f"{lmsys.DECONTAM} is missing: the LMSYS release is needed (../shared/data/decontam)")
    started = time.perf_counter()
    all_cases = cases(args.rule_built)
    print(f"{len(all_cases)} cases", flush=True)
    found = flagged(all_cases, args.cache_dir)
    print("\n".join(table(all_cases, found)))
    print(f"\ntotal {time.perf_counter() - started:.0f}s")
    if args.json:
        args.json.write_text(
            json.dumps(
                [
                    {
                        "group": c.group,
                        "split": c.split,
                        "benchmark": c.benchmark,
                        "item": c.item,
                        "human": c.query.human_turns,
                        "matches": {d: found[d].get(c.query.id) for d in DECONTAMINATORS},
                    }
                    for c in all_cases
                ],
                indent=0,
            )
        )


if __name__ == "__main__":
    main()
