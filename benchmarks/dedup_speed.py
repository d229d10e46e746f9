"""Time and peak memory of the dedup stage alone, per chain of dedupers, on the load shards of
a scale run (benchmarks/run_scale.py leaves them in its work folder).

    .venv/bin/python benchmarks/dedup_speed.py --work /tmp/bagel-scale/runs/items-1000000-seed-0-dedup-exact/out/.bagel-work \\
        --chains exact,exact+minhash,exact,exact+minhash

Each chain runs in a fresh child process (a new output folder each time), one after the other,
so chains measured back to back share the machine's conditions; peak memory is the highest RSS
of the child, sampled every 0.1 s. The shards are taken in the pipeline's order (priority, then
name and kind, from the manifest of the run).
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import tempfile
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))


def child(shards: list[str], out: str, chain: list[str]) -> dict:
    from bagel_core.registry import load_plugins
    from bagel_core.stages.dedup import run_dedup

    registry = load_plugins(strict=False)
    classes = [registry.get("deduper", name).cls for name in chain]
    started, cpu = time.perf_counter(), time.process_time()
    counts = run_dedup([Path(s) for s in shards], Path(out), lambda: [cls() for cls in classes])
    removed = {}
    for origin in counts.values():
        for name, n in origin["by_deduper"].items():
            removed[name] = removed.get(name, 0) + n["sft"] + n["dpo"]
    return {"seconds": time.perf_counter() - started, "cpu_seconds": time.process_time() - cpu, "removed": removed}


def shards_in_order(work: Path) -> list[Path]:
    manifest = json.loads((work.parent / "manifest.json").read_text())
    loaders = manifest["components"]["loaders"]  # already in load (priority) order
    found = []
    for loader in loaders:
        # Each load is a folder (kind-name-fingerprint) holding its shard.
        [shard] = [p for p in (work / "load").glob(f"{loader['kind']}-{loader['name']}-*/records.parquet")][-1:]
        found.append(shard)
    return found


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--work", type=Path, required=True)
    parser.add_argument("--chains", default="exact,exact+minhash")
    parser.add_argument("--child", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        print(json.dumps(child(**json.loads(args.child))))
        return
    from bagel_bench.measure import measured

    shards = [str(s) for s in shards_in_order(args.work)]
    items = 0
    import pyarrow.parquet as pq

    items = sum(pq.ParquetFile(s).metadata.num_rows for s in shards)
    print(f"{len(shards)} shards, {items:,} rows; load average {os.getloadavg()[0]:.1f}")
    # CPU seconds of the stage: what the code costs, less skewed than wall time when other work
    # shares the cores.
    print("| chain | load avg. | wall (s) | stage (s) | stage CPU (s) | peak RSS | removed |")
    print("| --- | ---: | ---: | ---: | ---: | ---: | --- |")
    for chain in args.chains.split(","):
        with tempfile.TemporaryDirectory() as out:
            load = os.getloadavg()[0]
            spec = json.dumps({"shards": shards, "out": out, "chain": chain.split("+")})
            m = measured([sys.executable, __file__, "--work", str(args.work), "--child", spec])
            if m.returncode != 0:
                raise SystemExit(m.stderr[-3000:])
            r = json.loads(m.stdout.strip().splitlines()[-1])
            removed = ", ".join(f"{k} {v:,}" for k, v in r["removed"].items())
            print(
                f"| {chain.replace('+', ',')} | {load:.1f} | {m.wall_s:.1f} | {r['seconds']:.1f} | {r['cpu_seconds']:.1f} | {m.peak_tree_rss_bytes / 2**30:.2f} GiB | {removed} |",
                flush=True,
            )


if __name__ == "__main__":
    main()
