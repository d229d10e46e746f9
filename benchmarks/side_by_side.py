"""Regression guard: a previous git revision against the working tree, on the same data.

    python benchmarks/side_by_side.py --base 7a489fc --items 1000000 --rounds 2 [--uncapped]

Generates the data once (the working tree's generator, cached like ``run_scale.py``), exports
the base revision with ``git archive`` (the repository is not touched), then runs the pipeline
alternately A B B A ... (so a drift in the machine's load hits both sides alike): each side
with its own ``benchmarks/bagel_bench/child_run.py`` and its own code first on ``PYTHONPATH``,
a fresh output folder and ``datasets`` cache. Prints wall time, items/s and peak memory per
stage, each side's median with the ratio (working tree / base), and whether the output files
are the same (rows and content). Figures taken while other work shares the cores are marked
with the load average.
"""

from __future__ import annotations

import hashlib
import json
import os
import shutil
import statistics
import subprocess
import sys
import tarfile
import tempfile
from pathlib import Path
from typing import Any

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent
sys.path.insert(0, str(HERE))
sys.path.insert(1, str(ROOT))  # this checkout's bagel_core (the work side), whatever is installed

import click  # noqa: E402
import pyarrow.parquet as pq  # noqa: E402
from bagel_bench.harness import _env, _json_of, add_benchmark_samples, ensure_data, selection  # noqa: E402
from bagel_bench.measure import measured  # noqa: E402

from bagel_core.records import LEGACY_SFT_COLUMNS  # noqa: E402

PLUGINS = ("bagel-sources-builtin", "bagel-formats-builtin", "bagel-dpo-builtin")
#: Output files compared between the two sides (whichever each side writes).
COMPARED = ("sft.parquet", "dpo.parquet", "conversations.parquet", "contamination.parquet", "near_duplicates.parquet")


def export_revision(revision: str, cache: Path) -> Path:
    """The tree of ``revision`` under ``cache`` (exported once, by commit hash)."""
    commit = subprocess.run(
        ["git", "rev-parse", "--verify", f"{revision}^{{commit}}"], cwd=ROOT, capture_output=True, text=True, check=True
    ).stdout.strip()
    tree = cache / "revisions" / commit
    if (tree / ".exported").exists():
        return tree
    shutil.rmtree(tree, ignore_errors=True)
    tree.mkdir(parents=True)
    with tempfile.TemporaryFile() as archive:
        subprocess.run(["git", "archive", "--format=tar", commit], cwd=ROOT, stdout=archive, check=True)
        archive.seek(0)
        with tarfile.open(fileobj=archive) as tar:
            tar.extractall(tree, filter="data")
    (tree / ".exported").write_text(commit + "\n")
    return tree


def side_env(tree: Path) -> dict[str, str]:
    """Put ``tree``'s core and built-in plugins ahead of whatever is installed (editable
    installs resolve after ``PYTHONPATH``); entry points keep their module names."""
    paths = [str(tree), *(str(tree / "plugins" / p) for p in PLUGINS)]
    return {"PYTHONPATH": os.pathsep.join(paths)}


def table_digest(path: Path) -> dict[str, Any] | None:
    """Rows and a digest per column of a parquet file (independent of compression and row
    groups): two runs that wrote the same rows agree column by column."""
    if not path.is_file():
        return None
    table = pq.read_table(path)
    columns = {}
    for name in table.column_names:
        digest = hashlib.sha256()
        # Value by value: the same rows give the same digest however they are split in chunks.
        for chunk in table.column(name).chunks:
            for value in chunk.to_pylist():
                digest.update(json.dumps(value, default=str, ensure_ascii=False).encode() + b"\n")
        columns[name] = digest.hexdigest()[:16]
    return {"rows": table.num_rows, "columns": columns}


def compare(a: dict[str, Any] | None, b: dict[str, Any] | None) -> str:
    """What differs between the base's and the working tree's version of one output file."""
    if a is None or b is None:
        return "only in " + ("work" if a is None else "base")
    ca, cb = a["columns"], b["columns"]
    # sft.parquet's input/output became prompt/completion (issue 29): compared under the new names.
    renamed = {
        old: new
        for old, new in LEGACY_SFT_COLUMNS.items()
        if old in ca and old not in cb and new in cb and new not in ca
    }
    ca = {renamed.get(c, c): digest for c, digest in ca.items()}
    changed = [c for c in ca if c in cb and ca[c] != cb[c]]
    notes = [f"changed: {', '.join(changed)}" if changed else "same rows and values"]
    if renamed:
        notes.append("renamed: " + ", ".join(f"{old} -> {new}" for old, new in renamed.items()))
    notes += [
        f"{label}: {', '.join(cols)}"
        for label, cols in (
            ("new columns", [c for c in cb if c not in ca]),
            ("dropped columns", [c for c in ca if c not in cb]),
        )
        if cols
    ]
    return "; ".join(notes)


def side_uncapped_options(tree: Path) -> dict[str, Any]:
    """The options that lift the caps, as ``tree``'s own harness writes them (the option's
    spelling changed between revisions: ``max_items = 0`` before, ``"none"`` now)."""
    code = "import json, sys; sys.path.insert(0, sys.argv[1]); from bagel_bench.harness import uncapped_options; print(json.dumps(uncapped_options()))"
    done = subprocess.run(
        [sys.executable, "-c", code, str(tree / "benchmarks")],
        env={**os.environ, **side_env(tree)},
        cwd=tree,
        capture_output=True,
        text=True,
        check=True,
    )
    return json.loads(done.stdout)


def one_run(label: str, tree: Path, arguments: dict[str, Any], run_dir: Path) -> dict[str, Any]:
    out = run_dir / "out"
    shutil.rmtree(run_dir, ignore_errors=True)
    run_dir.mkdir(parents=True)
    args = dict(arguments, out=str(out))
    load = os.getloadavg()[0]
    m = measured(
        [sys.executable, str(tree / "benchmarks" / "bagel_bench" / "child_run.py"), json.dumps(args)],
        {**_env(run_dir), **side_env(tree)},
    )
    result = _json_of(m, f"{label} run")
    # Stages run one after another from the end of start-up: each one's window of samples.
    at, stages = result["startup_s"], {}
    for stage, seconds in result["timings"].items():
        at += seconds
        stages[stage] = {"wall_s": seconds, "peak_tree_rss_bytes": m.peak_between(at - seconds, at)}
    files = {name: table_digest(out / name) for name in COMPARED}
    shutil.rmtree(out / ".bagel-work", ignore_errors=True)
    return {
        "wall_s": m.wall_s,
        "peak_tree_rss_bytes": m.peak_tree_rss_bytes,
        "load_average": load,
        "stages": stages,
        "totals": result["totals"],
        "files": files,
    }


def _median(runs: list[dict[str, Any]], get) -> float | None:
    values = [v for v in (get(r) for r in runs) if v is not None]
    return statistics.median(values) if values else None


def _ratio(a: float | None, b: float | None) -> str:
    return f"{b / a:.2f}x" if a and b is not None else "-"


def report(base: str, runs: dict[str, list[dict[str, Any]]], items: int) -> str:
    a, b = runs["base"], runs["work"]
    stages = list(dict.fromkeys([s for r in a + b for s in r["stages"]]))
    gib = lambda n: "-" if n is None else f"{n / 2**30:.2f} GiB"
    loads = lambda rs: ", ".join(f"{r['load_average']:.1f}" for r in rs)
    sec = lambda x: "-" if x is None else f"{x:.1f}"
    lines = [
        f"{items:,} source items; base {base} vs working tree; {len(a)} runs each, medians; "
        f"load averages at each start: base {loads(a)}; work {loads(b)}",
        "",
        "| stage | base (s) | work (s) | ratio | base peak | work peak | ratio |",
        "| --- | ---: | ---: | ---: | ---: | ---: | ---: |",
    ]
    for stage in stages:
        ta, tb = (_median(x, lambda r: r["stages"].get(stage, {}).get("wall_s")) for x in (a, b))
        pa, pb = (_median(x, lambda r: r["stages"].get(stage, {}).get("peak_tree_rss_bytes")) for x in (a, b))
        lines.append(
            f"| {stage} | {sec(ta)} | {sec(tb)} | {_ratio(ta, tb)} | {gib(pa)} | {gib(pb)} | {_ratio(pa, pb)} |"
        )
    wa, wb = _median(a, lambda r: r["wall_s"]), _median(b, lambda r: r["wall_s"])
    pa, pb = _median(a, lambda r: r["peak_tree_rss_bytes"]), _median(b, lambda r: r["peak_tree_rss_bytes"])
    lines.append(
        f"| **whole run** | {sec(wa)} | {sec(wb)} | {_ratio(wa, wb)} | {gib(pa)} | {gib(pb)} | {_ratio(pa, pb)} |"
    )
    lines.append(f"| items/s | {items / wa:,.0f} | {items / wb:,.0f} | | | | |")
    rows = lambda f: f"{f['rows']:,}" if f else "-"
    lines += ["", "| output file | base rows | work rows | content (first runs) |", "| --- | ---: | ---: | --- |"]
    for name in COMPARED:
        fa, fb = a[0]["files"][name], b[0]["files"][name]
        if fa is None and fb is None:
            continue
        lines.append(f"| {name} | {rows(fa)} | {rows(fb)} | {compare(fa, fb)} |")
    return "\n".join(lines)


@click.command()
@click.option("--base", required=True, help="The git revision to compare against (e.g. 7a489fc).")
@click.option("--items", type=int, default=1_000_000, show_default=True, help="Generated source items.")
@click.option(
    "--rounds", type=int, default=2, show_default=True, help="Pairs of runs; the order alternates A B, B A, ..."
)
@click.option("--seed", type=int, default=0, show_default=True)
@click.option("--uncapped", is_flag=True, help="Lift the slimorca and mathinstruct caps.")
@click.option("--decontaminate", default="none", show_default=True, help="Decontaminators of both runs (e.g. ngram).")
@click.option("--num-proc", type=int, default=2, show_default=True)
@click.option(
    "--cache",
    type=click.Path(file_okay=False, path_type=Path),
    default=Path("/tmp/bagel-scale"),
    show_default=True,
    help="Generated data, exported revisions and run folders.",
)
@click.option(
    "--json", "json_out", type=click.Path(dir_okay=False, path_type=Path), help="Also write every run's figures here."
)
def main(
    base: str,
    items: int,
    rounds: int,
    seed: int,
    uncapped: bool,
    decontaminate: str,
    num_proc: int,
    cache: Path,
    json_out: Path | None,
) -> None:
    from bagel_core.registry import load_plugins

    log = lambda m: click.echo(m, err=True)
    registry = load_plugins()
    chosen = selection(registry)
    root, _, _ = ensure_data(cache, items, seed, log)
    if decontaminate != "none":
        add_benchmark_samples(root, registry)
    trees = {"base": export_revision(base, cache), "work": ROOT}
    arguments = {
        "data_root": str(root),
        "sources": ",".join(chosen["source"]),
        "dpo": ",".join(chosen["dpo_builder"]),
        "decontaminate": decontaminate,
        "num_proc": num_proc,
    }
    options = {side: side_uncapped_options(tree) if uncapped else {} for side, tree in trees.items()}
    runs: dict[str, list[dict[str, Any]]] = {"base": [], "work": []}
    for i in range(rounds):
        for side in ("base", "work") if i % 2 == 0 else ("work", "base"):
            log(f"round {i + 1}: {side}")
            runs[side].append(
                one_run(side, trees[side], arguments | {"options": options[side]}, cache / "side-by-side" / side)
            )
            log(f"round {i + 1}: {side} {runs[side][-1]['wall_s']:.1f}s")
    if json_out:
        json_out.write_text(
            json.dumps(
                {"base": base, "items": items, "uncapped": uncapped, "decontaminate": decontaminate, "runs": runs},
                indent=1,
            )
            + "\n"
        )
    click.echo(report(base, runs, items))


if __name__ == "__main__":
    main()
