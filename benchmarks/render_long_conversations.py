"""Memory and time of rendering one long conversation, by number of turns.

An SFT item of n turns renders into n/2 rows, each holding the conversation up to its answer:
the output of one item grows with the square of its turns (the format's rule, as in the
reference), and so does the time to write it. What must not grow that way is memory: this
prints, per turn count, the peak resident memory of one process rendering the item (the render
stage alone, one format, no worker processes), its time and the rendered characters, so the
default ``max_turns`` / ``max_chars`` of every loader (bagel_core.config) can be read off it.

    python benchmarks/render_long_conversations.py [--turns 100,500,1000,2000,5000,10000] [--chars 48]

Each size runs in a fresh subprocess (``ru_maxrss`` is per process). Docs: docs/pipeline.md.
"""

from __future__ import annotations

import argparse
import json
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path


def one(turns: int, chars: int, folder: Path) -> dict:
    """Render one conversation of ``turns`` turns of about ``chars`` characters each."""
    import pyarrow as pa
    import pyarrow.compute as pc

    from bagel_core.registry import current
    from bagel_core.stages import DPO_WORK_SCHEMA, SFT_WORK_SCHEMA
    from bagel_core.stages.render import run_render

    values = [
        {"from": "human" if i % 2 == 0 else "gpt", "value": (f"turn {i} " + "w" * chars)[:chars]} for i in range(turns)
    ]
    inputs, out = folder / "in", folder / "out"
    inputs.mkdir()
    out.mkdir()
    import pyarrow.parquet as pq

    row = {name: None for name in SFT_WORK_SCHEMA.names} | {
        "id": "x",
        "source": "bench",
        "origin": "bench",
        "conversations": values,
    }
    pq.write_table(pa.Table.from_pylist([row], schema=SFT_WORK_SCHEMA), inputs / "sft.parquet")
    pq.write_table(DPO_WORK_SCHEMA.empty_table(), inputs / "dpo.parquet")
    vicuna = current().get("format", "vicuna").cls
    started = time.perf_counter()
    run_render([vicuna(vicuna.Options())], 42, None, inputs, out)
    seconds = time.perf_counter() - started
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss // 1024  # before reading the output back
    written = pq.ParquetFile(out / "sft.parquet")
    rendered = sum(
        pc.sum(pc.utf8_length(written.read_row_group(g, columns=["prompt"]).column("prompt"))).as_py()
        for g in range(written.num_row_groups)
    )
    return {
        "turns": turns,
        "item_chars": turns * chars,
        "rows": written.metadata.num_rows,
        "rendered_chars": rendered,
        "seconds": round(seconds, 2),
        "peak_rss_mb": peak,
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--turns", default="100,500,1000,2000,5000,10000")
    parser.add_argument(
        "--chars", type=int, default=48, help="characters per turn (48: the issue's 488 KB for 10,000 turns)"
    )
    parser.add_argument("--one", type=int, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.one is not None:
        with tempfile.TemporaryDirectory() as folder:
            print(json.dumps(one(args.one, args.chars, Path(folder))))
        return
    print("| turns | item chars | rows | rendered chars | seconds | peak RSS (MB) |")
    print("| ---: | ---: | ---: | ---: | ---: | ---: |")
    for turns in (int(t) for t in args.turns.split(",")):
        done = subprocess.run(
            [sys.executable, __file__, "--one", str(turns), "--chars", str(args.chars)],
            capture_output=True,
            text=True,
            check=True,
        )
        r = json.loads(done.stdout.strip().splitlines()[-1])
        print(
            f"| {r['turns']:,} | {r['item_chars']:,} | {r['rows']:,} | {r['rendered_chars']:,} | {r['seconds']} | {r['peak_rss_mb']:,} |",
            flush=True,
        )


if __name__ == "__main__":
    main()
