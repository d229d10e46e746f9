"""Items per second through the decontaminate stage, with the default decontaminators, on
items of the scale generator's lengths, against every view of the real benchmark test sets.

    .venv/bin/python benchmarks/generate.py --data-root /tmp/decontam-scale --items 250000 --seed 0
    .venv/bin/python benchmarks/decontamination_stage_speed.py --data-root /tmp/decontam-scale \\
        --work /tmp/decontam-speed [--decontaminate ngram,embedding,code] [--limit 200000] [--num-proc 2] [--benchmarks all]
    .venv/bin/python benchmarks/decontamination_stage_speed.py --real --work /tmp/decontam-real
    .venv/bin/python benchmarks/generate.py --realistic --data-root /tmp/v02-60k --items 60000
    .venv/bin/python benchmarks/decontamination_stage_speed.py --data-root /tmp/v02-60k \\
        --recipe recipes/bagel-v0.2.toml --work /tmp/decontam-v02 --limit 50000

1. ``bagel run`` (generated sources, caps lifted, no decontamination, one format; with
   ``--recipe``: the recipe's components and caps) once, to get the deduplicated items the
   decontaminate stage reads (kept in ``--work``; reused);
2. the first ``--limit`` of those items are copied into a stage input folder (with ``--real``
   instead: every real clean text of the development set, one item each);
3. :func:`bagel_core.stages.decontaminate.run_decontaminate` runs on them (dry run, with
   ``--num-proc`` worker processes) with the
   named decontaminators at their defaults and the benchmark views of ``../shared/data``,
   timed: index (the static model is distilled into ``--work`` once, beforehand, and that is
   timed apart), search, write. The transformer's cache starts empty unless ``--warm``.

Prints one JSON line: items, seconds per step, items/s, matches per decontaminator, the load
average before and after, and the number of CPUs torch used.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import sys
import time
from pathlib import Path

import numpy as np
import pyarrow as pa
import pyarrow.parquet as pq

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))
from decontamination_texts import benchmark_items  # noqa: E402


def dedup_folder(data_root: Path, work: Path, recipe: Path | None = None) -> Path:
    from bagel_core.config import RunConfig, load_recipe
    from bagel_core.pipeline import run
    from bagel_core.registry import load_plugins

    found = sorted((work / "run" / "work" / "dedup").glob("*/sft.parquet"))
    if not found and recipe is not None:
        # The realistic mixture (generate.py --realistic): the recipe's components and caps;
        # cinematika counts tokens with the approximation (no tokenizer download offline).
        values = load_recipe(recipe) | {"decontaminate": "none", "formats": "vicuna"}
        values["options"].setdefault("source", {}).setdefault("cinematika", {})["tokenizer"] = "approx"
        run(
            RunConfig(data_root=data_root, out=work / "run" / "out", work_dir=work / "run" / "work", **values),
            load_plugins(),
            quiet=True,
        )
        found = sorted((work / "run" / "work" / "dedup").glob("*/sft.parquet"))
    if not found:
        config = RunConfig(
            sources="slimorca,mathinstruct,airoboros",
            dpo="helpsteer,ultrafeedback",
            formats="vicuna",
            decontaminate="none",
            data_root=data_root,
            out=work / "run" / "out",
            work_dir=work / "run" / "work",
            options={"source": {"slimorca": {"max_items": "none"}, "mathinstruct": {"max_items": "none"}}},
        )
        run(config, load_plugins(), quiet=True)
        found = sorted((work / "run" / "work" / "dedup").glob("*/sft.parquet"))
    return found[0].parent


def stage_input(dedup: Path, target: Path, limit: int) -> int:
    """The first ``limit`` items (SFT first, then DPO) of ``dedup`` in ``target``."""
    target.mkdir(parents=True, exist_ok=True)
    sft = pq.read_table(dedup / "sft.parquet")
    sft = sft.slice(0, min(limit, sft.num_rows))
    dpo = pq.read_table(dedup / "dpo.parquet")
    dpo = dpo.slice(0, max(0, min(limit - sft.num_rows, dpo.num_rows)))
    pq.write_table(sft, target / "sft.parquet")
    pq.write_table(dpo, target / "dpo.parquet")
    return sft.num_rows + dpo.num_rows


def real_input(target: Path) -> int:
    """Every real non-benchmark text of ../shared/data the development set uses as clean text
    (MMLU auxiliary-train, Spider, EmoBank, BoolQ, PIQA, OpenBookQA: ~15,500), one item each:
    text much closer to the benchmarks than a chat mixture, so the most transformer work per item."""
    from decontamination_devset import extra_clean_texts
    from decontamination_texts import clean_texts

    from bagel_core.records import uid
    from bagel_core.stages import DPO_WORK_SCHEMA, SFT_WORK_SCHEMA

    texts = list(dict.fromkeys(clean_texts(10**9) + extra_clean_texts()))
    rows = [
        {
            "id": uid(t),
            "source": "real",
            "origin": "real",
            "text": None,
            "conversations": [{"from": "human", "value": t}, {"from": "gpt", "value": "Let me think about it."}],
        }
        for t in texts
    ]
    target.mkdir(parents=True, exist_ok=True)
    pq.write_table(pa.Table.from_pylist(rows, schema=SFT_WORK_SCHEMA), target / "sft.parquet")
    pq.write_table(DPO_WORK_SCHEMA.empty_table(), target / "dpo.parquet")
    return len(rows)


def transformer_texts(cache: Path) -> int:
    """Texts in the transformer's embedding cache (all encoded by this run when it started cold)."""
    return sum(len(np.load(f)) for f in cache.glob("embedding/*normalised*/*.keys.npy"))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--data-root", type=Path, help="the scale generator's corpus (not with --real)")
    parser.add_argument(
        "--recipe",
        type=Path,
        help="with --data-root from generate.py --realistic: the recipe it was made for (its components and caps)",
    )
    parser.add_argument(
        "--real", action="store_true", help="real benchmark-like texts of ../shared/data instead of generated items"
    )
    parser.add_argument("--work", type=Path, required=True)
    parser.add_argument("--decontaminate", default="ngram,embedding,code")
    parser.add_argument("--limit", type=int, default=200_000)
    parser.add_argument("--warm", action="store_true", help="keep the transformer's cache of an earlier run")
    parser.add_argument("--num-proc", type=int, default=2, help="worker processes of the stage (bagel run --num-proc)")
    parser.add_argument(
        "--benchmarks",
        choices=("legacy", "all"),
        default="legacy",
        help="the reference's nine sets, or also today's seven (current_benchmarks.py)",
    )
    args = parser.parse_args()
    from bagel_core.registry import load_plugins
    from bagel_core.stages.decontaminate import run_decontaminate

    if args.real:
        stage_in = args.work / "input-real"
        items = real_input(stage_in)
    else:
        dedup = dedup_folder(args.data_root, args.work, args.recipe)
        stage_in = args.work / f"input-{args.limit}"
        items = (
            stage_input(dedup, stage_in, args.limit)
            if not (stage_in / "dpo.parquet").exists()
            else sum(pq.read_metadata(stage_in / f"{n}.parquet").num_rows for n in ("sft", "dpo"))
        )
    registry = load_plugins()
    cache = args.work / "cache"
    if not args.warm:
        for folder in cache.glob("embedding/*normalised*"):
            shutil.rmtree(folder)
    specs = [(registry.get("decontaminator", n).cls, None, cache / n) for n in args.decontaminate.split(",")]
    benchmarks = [b for texts in benchmark_items().values() for b in texts]
    if args.benchmarks == "all":
        import tempfile

        import current_benchmarks

        with tempfile.TemporaryDirectory() as tmp:  # GPQA decompressed only here
            benchmarks += [
                b
                for texts in current_benchmarks.load(current_benchmarks.write_upstream(Path(tmp))).values()
                for b in texts
            ]
    timings: dict[str, float] = {}
    started = time.perf_counter()
    for cls, options, folder in specs:
        d = cls(options, cache_dir=folder)
        if hasattr(d, "static_encoder") and d.options.prefilter == "static":
            d.static_encoder()  # distilled once into --work; not part of the stage's steady cost
    timings["static model (distil or load)"] = time.perf_counter() - started
    out = args.work / "out"
    shutil.rmtree(out, ignore_errors=True)
    out.mkdir(parents=True)
    load_before = os.getloadavg()
    started = time.perf_counter()
    counts = run_decontaminate(specs, benchmarks, stage_in, out, dry_run=True, num_proc=args.num_proc)
    stage = time.perf_counter() - started
    table = pq.read_table(out / "contamination.parquet", columns=["id", "decontaminator", "benchmark"])
    report = table.column("decontaminator").to_pylist()
    # Items each benchmark matched (an item matched by several counts for each).
    per_benchmark: dict[str, set] = {}
    for item, bench in zip(table.column("id").to_pylist(), table.column("benchmark").to_pylist()):
        per_benchmark.setdefault(bench, set()).add(item)
    import torch

    print(
        json.dumps(
            {
                "items": items,
                "benchmark_views": len(benchmarks),
                "decontaminators": args.decontaminate,
                "stage_s": round(stage, 1),
                "items_per_s": round(items / stage, 1),
                "timings": timings,
                "flagged": counts["flagged"],
                "matches": {n: report.count(n) for n in set(report)},
                "items_per_benchmark": {b: len(ids) for b, ids in sorted(per_benchmark.items())},
                "transformer_texts_cached": transformer_texts(cache),
                "num_proc": args.num_proc,
                "load_before": load_before,
                "load_after": os.getloadavg(),
                "torch_threads": torch.get_num_threads(),
                "cpus": os.cpu_count(),
            }
        )
    )


if __name__ == "__main__":
    main()
