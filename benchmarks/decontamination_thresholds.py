"""Recall and false-positive rate of the decontaminators, to choose their default thresholds.

Perturbed copies of real benchmark items (../shared/data/benchmarks) are the positives, real
non-benchmark texts (training splits in ../shared/data/sources) the negatives; every benchmark
text the reference indexed is in the index. Prints one table per decontaminator: recall per
perturbation, and the share of clean texts flagged (FP) per setting.

    .venv/bin/python benchmarks/decontamination_thresholds.py [--per-benchmark 100] [--clean 5000]
        [--backend torch|onnx|onnx-int8] [--skip-ngram]

Embeddings are cached in --cache-dir (one folder per backend), so a rerun only redoes the
arithmetic.
"""

from __future__ import annotations

import argparse
import random
import re
import sys
import time
from collections.abc import Callable
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent))
from decontamination_texts import LETTERS, benchmark_items, clean_texts  # noqa: E402

from bagel_core.builtin.decontaminate.embedding import EmbeddingDecontaminator  # noqa: E402
from bagel_core.builtin.decontaminate.ngram import NgramDecontaminator  # noqa: E402
from bagel_core.components import BenchmarkText, Query  # noqa: E402

THRESHOLDS = (0.80, 0.85, 0.88, 0.90, 0.92, 0.95, 0.975)
LENGTH_RULES = (float("inf"), 0.2)
FILLERS = "the a new old big small red green quickly often never always house river number answer".split()

Perturb = Callable[[str, random.Random], str | None]


def _words_edit(count: int, delete: bool) -> Perturb:
    def edit(text: str, rng: random.Random) -> str | None:
        words = text.split(" ")
        if len(words) < count + 3:
            return None
        for pos in sorted(rng.sample(range(len(words)), count), reverse=True):
            if delete:
                del words[pos]
            else:
                words[pos] = rng.choice(FILLERS)
        return " ".join(words)

    return edit


def _reorder_choices(text: str, rng: random.Random) -> str | None:
    lines = text.split("\n")
    choices = [line[3:] for line in lines[1:] if re.match(r"^[A-G]\. ", line)]
    if len(choices) < 3:
        return None
    shuffled = choices[:]
    while shuffled == choices:
        rng.shuffle(shuffled)
    return "\n".join([lines[0], *(f"{LETTERS[j]}. {c}" for j, c in enumerate(shuffled))])


PERTURBATIONS: dict[str, Perturb] = {
    "verbatim": lambda t, rng: t,
    "lower case, whitespace collapsed": lambda t, rng: " ".join(t.lower().split()),
    'prefix "Question: "': lambda t, rng: "Question: " + t,
    "prefix instruction line": lambda t, rng: "Answer the following question.\n\n" + t,
    'suffix "Let\'s think step by step."': lambda t, rng: t + "\nLet's think step by step.",
    "choices reordered (ARC)": _reorder_choices,
    "1 word changed": _words_edit(1, delete=False),
    "3 words changed": _words_edit(3, delete=False),
    "1 word deleted": _words_edit(1, delete=True),
    "3 words deleted": _words_edit(3, delete=True),
}


def positives(items: dict[str, list[BenchmarkText]], per_benchmark: int, seed: int) -> dict[str, list[str]]:
    """Perturbation -> perturbed texts of ``per_benchmark`` sampled items of every benchmark."""
    rng = random.Random(seed)
    out: dict[str, list[str]] = {name: [] for name in PERTURBATIONS}
    for bench, texts in sorted(items.items()):
        pool = texts[::2] if bench == "arc_challenge" else texts  # the option-list form of ARC
        for b in rng.sample(pool, min(per_benchmark, len(pool))):
            for name, perturb in PERTURBATIONS.items():
                changed = perturb(b.text, rng)
                if changed is not None:
                    out[name].append(changed)
    return out


def _share(found: int, total: int) -> str:
    return f"{100 * found / total:.1f}% ({found})"


def _queries(texts: list[str]) -> list[Query]:
    return [Query(str(i), "eval", t, (t,)) for i, t in enumerate(texts)]


def ngram_table(index: list[BenchmarkText], pos: dict[str, list[str]], clean: list[str]) -> None:
    settings = [(13, 0.0), (8, 0.0), (13, 0.1)]
    print("\n## ngram: recall per perturbation, FP on clean texts")
    print(
        "| perturbation | n | "
        + " | ".join(f"n={n}" + (f", min_fraction={f}" if f else "") for n, f in settings)
        + " |"
    )
    print("|---|---|" + "---|" * len(settings))
    decons = []
    for n, f in settings:
        d = NgramDecontaminator(NgramDecontaminator.Options(n=n, min_fraction=f, min_words=min(8, n)))
        d.index(index)
        decons.append(d)
    rows = list(pos.items()) + [("FP (clean texts)", clean)]
    for name, texts in rows:
        qs = _queries(texts)
        print(f"| {name} | {len(qs)} | " + " | ".join(_share(len(list(d.search(qs))), len(qs)) for d in decons) + " |")


def embedding_table(
    index: list[BenchmarkText], pos: dict[str, list[str]], clean: list[str], cache_dir: Path, backend: str = "torch"
) -> None:
    d = EmbeddingDecontaminator(EmbeddingDecontaminator.Options(backend=backend), cache_dir=cache_dir)
    started = time.perf_counter()
    d.index(index)
    nearest = {name: d.nearest(texts) for name, texts in [*pos.items(), ("FP (clean texts)", clean)]}
    print(
        f"\n(embedding: {d.cache.encoded} texts encoded in {time.perf_counter() - started:.0f}s, the rest from the cache)"
    )
    bench_len = np.array([len(b.text) for b in index])
    for delta in LENGTH_RULES:
        rule = "off" if delta == float("inf") else f"max_length_delta={delta}"
        print(f"\n## embedding ({d.options.model}, backend {backend}), length rule {rule}: recall, FP on clean texts")
        print("| perturbation | n | " + " | ".join(f"cos >= {t}" for t in THRESHOLDS) + " |")
        print("|---|---|" + "---|" * len(THRESHOLDS))
        for name, (scores, indices) in nearest.items():
            texts = pos.get(name, clean)
            query_len = np.array([max(len(t), 1) for t in texts])[:, None]
            close = np.abs(query_len - bench_len[indices]) / query_len <= delta
            found = [int(((scores >= t) & close).any(axis=1).sum()) for t in THRESHOLDS]
            print(f"| {name} | {len(texts)} | " + " | ".join(_share(f, len(texts)) for f in found) + " |")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--per-benchmark", type=int, default=100, help="items sampled per benchmark")
    parser.add_argument("--clean", type=int, default=5000, help="clean texts")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--cache-dir", type=Path, default=Path("/tmp/bagel-decontamination-cache"))
    parser.add_argument("--skip-embedding", action="store_true")
    parser.add_argument("--skip-ngram", action="store_true")
    parser.add_argument("--backend", default="torch", help="embedding backend: torch, onnx or onnx-int8")
    args = parser.parse_args()
    items = benchmark_items()
    index = [b for texts in items.values() for b in texts]
    pos = positives(items, args.per_benchmark, args.seed)
    clean = clean_texts(args.clean, args.seed)
    print(f"index: {len(index)} benchmark texts; {sum(map(len, pos.values()))} positives; {len(clean)} clean texts")
    if not args.skip_ngram:
        ngram_table(index, pos, clean)
    if not args.skip_embedding:
        embedding_table(index, pos, clean, args.cache_dir, args.backend)


if __name__ == "__main__":
    main()
