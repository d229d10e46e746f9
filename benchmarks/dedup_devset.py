"""Recall and false-positive rate of the ``minhash`` deduper on a development set of real text,
to choose its defaults (docs/dedup.md).

Real texts from ../shared/data (benchmark questions and instructions, and the clean training
texts of the decontamination measurements) are the originals. Each perturbation makes a copy of
some of them: a few words changed, sentences reordered, a boilerplate prefix added, or a
templated row with one field changed (a long real text as the template, a short real text as
its field: the original and the copy differ only in the field). The other texts are the
negatives: distinct real items (no other text of the set at true Jaccard >= 0.5; the real
corpora's own near-duplicates are left out, see :func:`distinct`). The stream holds originals and negatives (shuffled), then the
copies, so a copy can only be removed in favour of what came before it, as a lower-priority
source's item would be.

Per setting it prints recall per perturbation, recall of the copies whose true Jaccard
similarity with their original (word 3-gram sets after normalisation, the default shingling) is
>= 0.8 and in lower bands, and the share of distinct items removed (with how many of those
actually have a near-duplicate, true Jaccard >= 0.8, among the kept items).

    .venv/bin/python benchmarks/dedup_devset.py [--per-kind 1000] [--seed 0]
"""

from __future__ import annotations

import argparse
import random
import re
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from decontamination_texts import benchmark_items, clean_texts  # noqa: E402

from bagel_core.builtin.dedup.minhash import MinHashDeduper, shingles  # noqa: E402
from bagel_core.builtin.dedup.semantic import SemanticDeduper  # noqa: E402
from bagel_core.components import DedupBatch  # noqa: E402

FILLERS = "the a new old big small red green quickly often never always house river number answer".split()
PREFIXES = (
    "Please answer the following question.\n",
    "Read the question below carefully, then answer it.\n\n",
    "Instruction: ",
    "You are a helpful assistant. Respond to the user's request below.\n",
    "Below is an instruction that describes a task. Write a response that appropriately completes the request.\n\n",
    "Q: ",
)
BANDS = ((0.9, 1.01), (0.8, 0.9), (0.7, 0.8), (0.6, 0.7), (0.0, 0.6))
_SENTENCE = re.compile(r"(?<=[.?!])\s+")


def jaccard(a: str, b: str) -> float:
    x, y = shingles(a, "word", 3), shingles(b, "word", 3)
    return len(x & y) / len(x | y) if x | y else 0.0


def words_changed(count: int):
    def edit(text: str, rng: random.Random):
        words = text.split(" ")
        if len(words) < 4 * count:
            return None
        for pos in rng.sample(range(len(words)), count):
            words[pos] = rng.choice(FILLERS)
        return " ".join(words)

    return edit


def reordered(text: str, rng: random.Random):
    sentences = _SENTENCE.split(text.strip())
    if len(sentences) < 3:
        return None
    shuffled = sentences[:]
    while shuffled == sentences:
        rng.shuffle(shuffled)
    return " ".join(shuffled)


def prefixed(text: str, rng: random.Random):
    return rng.choice(PREFIXES) + text


PERTURBATIONS = {
    "1 word changed": words_changed(1),
    "2 words changed": words_changed(2),
    "3 words changed": words_changed(3),
    "sentences reordered": reordered,
    "boilerplate prefix": prefixed,
}


def distinct(texts: list[str], below: float = 0.5, common: int = 300) -> list[str]:
    """The texts with no other text at true Jaccard >= ``below``: real corpora hold near-
    duplicates of their own (ARC's two forms of an item, Winogrande's twin sentences, MMLU
    questions sharing a passage), which are not the distinct items the false-positive rate is
    about. Exact: candidates share a shingle held by at most ``common`` texts (a pair at 0.5
    shares half its shingles, never only the most common ones), then true Jaccard decides."""
    sets = [shingles(t, "word", 3) for t in texts]
    postings: dict[str, list[int]] = {}
    for i, s in enumerate(sets):
        for g in s:
            postings.setdefault(g, []).append(i)
    keep = []
    for i, s in enumerate(sets):
        others = {j for g in s if len(postings[g]) <= common for j in postings[g] if j != i}
        if all(len(s & sets[j]) / len(s | sets[j]) < below for j in others):
            keep.append(texts[i])
    return keep


def development_set(per_kind: int, seed: int, raw: bool = False):
    """(originals, negatives, copies); a copy is (perturbation, index of its original, text).
    ``raw`` keeps the corpora's own near-duplicates among the negatives."""
    rng = random.Random(seed)
    pool = [b.text for texts in benchmark_items().values() for b in texts] + clean_texts(10**9, seed)
    pool = [t for t in dict.fromkeys(t.strip() for t in pool) if shingles(t, "word", 3)]
    pool = pool if raw else distinct(pool)
    rng.shuffle(pool)
    originals: list[str] = []
    negatives: list[str] = []
    copies: list[tuple[str, int, str]] = []
    rest = iter(pool)
    for kind, perturb in PERTURBATIONS.items():
        made = 0
        while made < per_kind:
            text = next(rest)
            changed = perturb(text, rng)
            if changed is None:  # too short for this perturbation: a negative
                negatives.append(text)
                continue
            copies.append((kind, len(originals), changed))
            originals.append(text)
            made += 1
    # Templated rows: a long real text as the template, a short real text as its field.
    remaining = list(rest)
    templates = [t for t in remaining if len(t.split()) >= 60][:per_kind]
    fields = [t for t in remaining if len(t.split()) <= 12]
    for template in templates:
        a, b = rng.sample(fields, 2)
        copies.append(("templated, one field changed", len(originals), f"{template}\n\nInput: {b}"))
        originals.append(f"{template}\n\nInput: {a}")
    used = set(templates)
    negatives += [t for t in remaining if t not in used]
    return originals, negatives, copies


def evaluate(deduper, originals, negatives, copies, seed: int):
    rng = random.Random(seed)
    distinct = [("original", i, t) for i, t in enumerate(originals)] + [
        ("negative", i, t) for i, t in enumerate(negatives)
    ]
    rng.shuffle(distinct)
    stream = distinct + [("copy", i, t) for i, (_, _, t) in enumerate(copies)]
    started = time.perf_counter()
    for start in range(0, len(stream), 4096):
        chunk = stream[start : start + 4096]
        positions = list(range(start, start + len(chunk)))
        deduper.add(DedupBatch(positions, [str(p) for p in positions], ["dev"] * len(chunk), [t for _, _, t in chunk]))
    removed = {d.position: d for d in deduper.duplicates()}
    seconds = time.perf_counter() - started
    return stream, removed, seconds


def report(deduper, originals, negatives, copies, seed: int) -> dict:
    stream, removed, seconds = evaluate(deduper, originals, negatives, copies, seed)
    first_copy = len(stream) - len(copies)
    per_kind: dict[str, list[int]] = {}
    per_band: dict[tuple, list[int]] = {b: [0, 0] for b in BANDS}
    for i, (kind, original, text) in enumerate(copies):
        hit = first_copy + i in removed
        per_kind.setdefault(kind, [0, 0])
        per_kind[kind][0] += hit
        per_kind[kind][1] += 1
        j = jaccard(originals[original], text)
        band = next(b for b in BANDS if b[0] <= j < b[1])
        per_band[band][0] += hit
        per_band[band][1] += 1
    false = [p for p in removed if p < first_copy]
    false_bands = {b: 0 for b in BANDS}
    for p in false:
        j = jaccard(stream[p][2], stream[removed[p].kept][2])
        false_bands[next(b for b in BANDS if b[0] <= j < b[1])] += 1
    return {
        "per_kind": per_kind,
        "per_band": per_band,
        "distinct": first_copy,
        "false": len(false),
        "false_bands": false_bands,
        "seconds": seconds,
        "items": len(stream),
    }


def _share(found: int, total: int) -> str:
    return f"{100 * found / total:.1f}% ({found}/{total})" if total else "-"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--per-kind", type=int, default=1000)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument(
        "--negatives",
        type=int,
        default=None,
        help="Keep at most this many negatives (the semantic deduper encodes every text).",
    )
    parser.add_argument(
        "--cache-dir",
        type=Path,
        default=Path("/tmp/bagel-dedup-devset-cache"),
        help="Embedding cache of the semantic settings.",
    )
    parser.add_argument(
        "--raw",
        action="store_true",
        help="Keep the corpora's own near-duplicates (true Jaccard >= 0.5) among the negatives.",
    )
    parser.add_argument(
        "--settings",
        default="word:3:0.6,word:3:0.65,word:3:0.7,word:3:0.75,word:3:0.8,word:2:0.7,word:5:0.7,char:5:0.7",
        help="shingle:size:threshold (shingle word|char), or semantic:0:threshold, comma-separated",
    )
    args = parser.parse_args()
    originals, negatives, copies = development_set(args.per_kind, args.seed, args.raw)
    negatives = negatives[: args.negatives] if args.negatives is not None else negatives
    kind = "real texts, the corpora's own near-duplicates included" if args.raw else "distinct real texts"
    print(
        f"development set: {len(originals)} originals, {len(copies)} near-duplicate copies, {len(negatives)} negatives ({kind})\n"
    )
    settings = [s.split(":") for s in args.settings.split(",")]
    results = []
    for shingle, size, threshold in settings:
        if shingle == "semantic":
            deduper = SemanticDeduper(
                SemanticDeduper.Options(threshold=float(threshold)), cache_dir=args.cache_dir / "semantic"
            )
        else:
            deduper = MinHashDeduper(
                MinHashDeduper.Options(threshold=float(threshold), shingle=shingle, shingle_size=int(size))
            )
        results.append(report(deduper, originals, negatives, copies, args.seed))
    names = [f"semantic, cos={t}" if s == "semantic" else f"{s} {n}, t={t}" for s, n, t in settings]
    print("| copies removed | " + " | ".join(names) + " |")
    print("| --- |" + " ---: |" * len(names))
    for kind in results[0]["per_kind"]:
        print(f"| {kind} | " + " | ".join(_share(*r["per_kind"][kind]) for r in results) + " |")
    for band in BANDS:
        label = f"true Jaccard {band[0]:.1f}-{min(band[1], 1):.1f}" if band[0] else f"true Jaccard < {band[1]:.1f}"
        print(f"| {label} | " + " | ".join(_share(*r["per_band"][band]) for r in results) + " |")
    print(
        "| **true Jaccard >= 0.8** | "
        + " | ".join(
            _share(
                r["per_band"][BANDS[0]][0] + r["per_band"][BANDS[1]][0],
                r["per_band"][BANDS[0]][1] + r["per_band"][BANDS[1]][1],
            )
            for r in results
        )
        + " |"
    )
    print("| **distinct items removed** | " + " | ".join(_share(r["false"], r["distinct"]) for r in results) + " |")
    print(
        "| ... at true Jaccard >= 0.8 with the kept item | "
        + " | ".join(str(r["false_bands"][BANDS[0]] + r["false_bands"][BANDS[1]]) for r in results)
        + " |"
    )
    print(
        "| ... at 0.6-0.8 | "
        + " | ".join(str(r["false_bands"][BANDS[2]] + r["false_bands"][BANDS[3]]) for r in results)
        + " |"
    )
    print("| ... below 0.6 | " + " | ".join(str(r["false_bands"][BANDS[4]]) for r in results) + " |")
    print("| seconds (signatures + LSH) | " + " | ".join(f"{r['seconds']:.1f}" for r in results) + " |")


if __name__ == "__main__":
    main()
