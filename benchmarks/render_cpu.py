"""CPU seconds of the render stage alone, in one process, for a tree's code on a run's items.

    python benchmarks/render_cpu.py --items RUN/out/.bagel-work/dedup/KEY --trees base=/tmp/rev/7a489fc...,work=. \
        [--rounds 2] [--second-pass-conversations main]

Each tree (a ``side_by_side.py`` export, or this checkout) runs in a fresh process with its own
code first on ``PYTHONPATH``, rendering the deduplicated items into the four built-in formats
with one process (``num_proc`` 1): wall and CPU seconds (``time.process_time``, less skewed by
other work on the machine than wall time). Trees run in turn, the order reversed every round.
``--second-pass-conversations`` names the trees whose render did not write
``conversations.parquet`` (between turn 2 and issue 29 a second pass wrote it: it is run and
counted too, so every side does the same work).
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import click

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))

from side_by_side import side_env  # noqa: E402

CHILD = r"""
import json, shutil, sys, time
from pathlib import Path
items, out, second_pass = Path(sys.argv[1]), Path(sys.argv[2]), sys.argv[3] == "1"
try:
    from bagel_core.registry import load_plugins
    registry = load_plugins()
except ImportError:  # before the registry module (7a489fc)
    from bagel_core.plugins import load_plugins
    registry = load_plugins()[1]
from bagel_core.stages.render import run_render
formats = [registry.get("format", n).cls() for n in ("alpaca", "vicuna", "llama-2", "chatml")]
shutil.rmtree(out, ignore_errors=True)
out.mkdir(parents=True)
wall, cpu = time.perf_counter(), time.process_time()
run_render(formats, 42, None, items, out, 1, True)
if second_pass:
    from bagel_core.stages.conversations import write_conversations
    write_conversations(items, out)
print(json.dumps({"wall_s": time.perf_counter() - wall, "cpu_s": time.process_time() - cpu}))
"""


@click.command()
@click.option("--items", type=click.Path(file_okay=False, exists=True, path_type=Path), required=True)
@click.option("--trees", required=True, help="label=path,... of the trees to run.")
@click.option("--rounds", type=int, default=2, show_default=True)
@click.option("--second-pass-conversations", default="", help="Labels whose conversations file is a second pass.")
@click.option("--out", type=click.Path(file_okay=False, path_type=Path), default=Path("/tmp/bagel-render-cpu"))
def main(items: Path, trees: str, rounds: int, second_pass_conversations: str, out: Path) -> None:
    sides = dict(t.split("=", 1) for t in trees.split(","))
    second = set(filter(None, second_pass_conversations.split(",")))
    results: dict[str, list[dict]] = {label: [] for label in sides}
    for r in range(rounds):
        for label in list(sides) if r % 2 == 0 else list(sides)[::-1]:
            tree = Path(sides[label]).resolve()
            load = os.getloadavg()[0]
            done = subprocess.run(
                [sys.executable, "-c", CHILD, str(items), str(out / label), "1" if label in second else "0"],
                env={**os.environ, **side_env(tree)},
                cwd=tree,
                capture_output=True,
                text=True,
                check=True,
            )
            result = json.loads(done.stdout.strip().splitlines()[-1]) | {"load": load}
            results[label].append(result)
            click.echo(f"{label}: wall {result['wall_s']:.2f} s, CPU {result['cpu_s']:.2f} s (load {load:.1f})")
    click.echo("\n| tree | CPU (s), each run | wall (s), each run | load avg. |\n| --- | --- | --- | --- |")
    for label, runs in results.items():
        cpu = ", ".join(f"{r['cpu_s']:.2f}" for r in runs)
        wall = ", ".join(f"{r['wall_s']:.2f}" for r in runs)
        loads = ", ".join(f"{r['load']:.1f}" for r in runs)
        click.echo(f"| {label} | {cpu} | {wall} | {loads} |")


if __name__ == "__main__":
    main()
