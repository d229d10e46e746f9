"""The scale benchmark: generate data, run the pipeline on it, measure, report.

Per size: generate (cached by size and seed), run the pipeline in a child process (fresh
output, fresh ``datasets`` cache), run it again with nothing changed, then the decontaminators
alone on the deduplicated items. Everything measured goes to a JSON file; a table of the main
figures goes into ``benchmarks/README.md`` between two markers.
"""

from __future__ import annotations

import datetime
import json
import os
import platform
import shutil
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any

import psutil

from .generator import SOURCES
from .measure import Measurement, measured

HERE = Path(__file__).resolve().parent
BENCHMARKS = HERE.parent
#: Generated sources by component kind (what the bagel plugins call them).
KINDS = {"source": ("slimorca", "mathinstruct", "airoboros"), "dpo_builder": ("helpsteer", "ultrafeedback")}
#: Queries copied into the benchmark texts of the decontaminators-alone runs (at most a tenth).
PLANTED = 500
START, END = "<!-- results:start -->", "<!-- results:end -->"


def machine() -> dict[str, Any]:
    model = next(
        (
            line.split(":", 1)[1].strip()
            for line in Path("/proc/cpuinfo").read_text().splitlines()
            if line.startswith("model name")
        ),
        platform.processor(),
    )
    return {
        "nproc": os.cpu_count(),
        "cpu_model": model,
        "ram_bytes": psutil.virtual_memory().total,
        "python": platform.python_version(),
        "platform": platform.platform(),
    }


def _size(path: Path, skip: str | None = None) -> int:
    return sum(
        p.stat().st_size for p in path.rglob("*") if p.is_file() and not (skip and skip in p.relative_to(path).parts)
    )


def _env(run_dir: Path) -> dict[str, str]:
    return {
        "HF_HUB_OFFLINE": "1",
        "HF_DATASETS_OFFLINE": "1",
        "TOKENIZERS_PARALLELISM": "false",
        # A fresh datasets cache per run: the JSON -> Arrow conversion is part of loading.
        "HF_DATASETS_CACHE": str(run_dir / "hf-datasets"),
    }


def _json_of(m: Measurement, what: str) -> dict[str, Any]:
    if m.returncode != 0:
        raise RuntimeError(f"{what} failed (exit {m.returncode}):\n{m.stderr[-4000:]}")
    return json.loads(m.stdout.strip().splitlines()[-1])


def selection(registry) -> dict[str, list[str]]:
    """The generated sources the installed plugins provide, by kind."""
    return {kind: [n for n in names if n in registry.of(kind)] for kind, names in KINDS.items()}


def add_benchmark_samples(root: Path, registry) -> list[str]:
    """Copy the samples of every registered benchmark set into ``root`` (decontamination needs
    benchmark data under the same data root); returns the dataset ids copied."""
    copied = []
    for info in registry.of("benchmark").values():
        cls = info.cls
        for dataset_id in cls.dataset_ids:
            src = Path(cls.sample_root or "") / dataset_id
            dest = root / dataset_id
            if cls.sample_root and src.is_dir() and not dest.exists():
                shutil.copytree(src, dest)
                copied.append(dataset_id)
    return copied


def ensure_data(
    cache: Path, items: int, seed: int, log: Callable[[str], None]
) -> tuple[Path, dict[str, Any], float | None]:
    """The generated data root for ``items`` and ``seed``, generating it unless cached."""
    root = cache / "data" / f"items-{items}-seed-{seed}"
    if (root / "expected.json").exists():  # written last: the data is complete
        return root, json.loads((root / "expected.json").read_text()), None
    if root.exists():
        shutil.rmtree(root)
    log(f"generating {items:,} items into {root}")
    m = measured(
        [
            sys.executable,
            str(BENCHMARKS / "generate.py"),
            "--data-root",
            str(root),
            "--items",
            str(items),
            "--seed",
            str(seed),
        ]
    )
    if m.returncode != 0:
        raise RuntimeError(f"generate.py failed:\n{m.stderr[-4000:]}")
    return root, json.loads((root / "expected.json").read_text()), m.wall_s


def run_size(
    items: int,
    seed: int,
    cache: Path,
    num_proc: int,
    embedding_queries: int,
    benchmark_texts: int,
    embedding_benchmark_texts: int,
    uncapped: bool,
    log: Callable[[str], None],
    dedup: str = "exact",
    alone: bool = True,
) -> dict[str, Any]:
    from bagel_core.registry import load_plugins

    registry = load_plugins()
    chosen = selection(registry)
    root, plan, generate_s = ensure_data(cache, items, seed, log)
    decontaminators = [n for n in ("ngram", "embedding") if n in registry.of("decontaminator")]
    main_decon = "ngram" if "ngram" in decontaminators else "none"
    if main_decon != "none":
        add_benchmark_samples(root, registry)
    run_dir = (
        cache / "runs" / f"items-{items}-seed-{seed}{'-uncapped' if uncapped else ''}-dedup-{dedup.replace(',', '+')}"
    )
    if run_dir.exists():
        shutil.rmtree(run_dir)
    out = run_dir / "out"
    arguments = {
        "data_root": str(root),
        "out": str(out),
        "sources": ",".join(chosen["source"]) or "none",
        "dpo": ",".join(chosen["dpo_builder"]) or "none",
        "decontaminate": main_decon,
        "dedup": dedup,
        "num_proc": num_proc,
        "options": uncapped_options() if uncapped else {},
    }
    command = [sys.executable, str(HERE / "child_run.py"), json.dumps(arguments)]
    log(f"{items:,} items: first run")
    # Other work on the machine skews every figure: the load average is kept with them.
    load_before = os.getloadavg()
    first = measured(command, _env(run_dir))
    load_after = os.getloadavg()
    first_result = _json_of(first, "pipeline run")
    log(f"{items:,} items: first run {first.wall_s:.1f}s; rerun")
    again = measured(command, _env(run_dir))
    again_result = _json_of(again, "pipeline rerun")
    totals = first_result["totals"]
    rows = totals["sft_rows"] + totals["dpo_rows"]
    timings = first_result["timings"]
    rows_in = sum(plan["planted"][s]["rows"] for s in SOURCES if s in chosen["source"] + chosen["dpo_builder"])
    stage_items = {
        "load": rows_in,
        "dedup": totals["loaded"],
        "decontaminate": totals["loaded"] - totals["duplicates"],
        "render": rows,
    }
    # Stages run one after another from the end of start-up (imports, plugin loading); the
    # short set-up between them (fingerprints) is left out, so windows are approximate.
    windows, at = {}, first_result["startup_s"]
    for stage, seconds in timings.items():
        windows[stage] = (at, at + seconds)
        at += seconds
    result: dict[str, Any] = {
        "items": items,
        "measured_at": datetime.datetime.now(datetime.UTC).isoformat(timespec="seconds"),
        "seed": seed,
        "uncapped": uncapped,
        "sources": chosen,
        "decontaminate": main_decon,
        "dedup": dedup,
        "num_proc": num_proc,
        "command": f"bagel run --data-root {root} --sources {arguments['sources']} --dpo {arguments['dpo']} --formats all --dedup {dedup} --decontaminate {main_decon} --num-proc {num_proc} --out {out} --quiet",
        "generate_s": generate_s,
        "input_bytes": _size(root),
        "source_rows": rows_in,
        "wall_s": first.wall_s,
        "load_average_before_after": [load_before, load_after],
        "startup_s": first_result["startup_s"],
        "stages": {
            stage: {
                "wall_s": seconds,
                "items": stage_items.get(stage),
                "items_per_s": stage_items[stage] / seconds if seconds and stage in stage_items else None,
                "peak_tree_rss_bytes": first.peak_between(*windows[stage]),
            }
            for stage, seconds in timings.items()
        },
        "items_per_s": rows_in / first.wall_s,
        "rows_written": rows,
        "rows_written_per_s": rows / first.wall_s,
        "render_rows_per_s": rows / timings["render"] if timings.get("render") else None,
        "peak_tree_rss_bytes": first.peak_tree_rss_bytes,
        "max_process_rss_bytes": first.max_process_rss_bytes,
        "output_bytes": _size(out, skip=".bagel-work"),
        "work_bytes": _size(out / ".bagel-work") if (out / ".bagel-work").exists() else 0,
        "totals": totals,
        "per_source": first_result["sources"],
        "formats": first_result["formats"],
        "rerun": {
            "wall_s": again.wall_s,
            "share_of_first": again.wall_s / first.wall_s,
            "reused": again_result["reused"],
            "peak_tree_rss_bytes": again.peak_tree_rss_bytes,
        },
        "decontamination_alone": {},
    }
    dedup_dirs = sorted((out / ".bagel-work" / "dedup").glob("*/sft.parquet"))
    if dedup_dirs and alone:
        result["decontamination_alone"] = decontamination_alone(
            dedup_dirs[0].parent,
            run_dir,
            decontaminators,
            embedding_queries,
            benchmark_texts,
            embedding_benchmark_texts,
            seed,
            log,
        )
    return result


def uncapped_options() -> dict[str, dict[str, dict[str, Any]]]:
    """Recipe options lifting the per-source caps (the engine's ``max_items``), so every
    generated item reaches rendering."""
    return {"source": {"slimorca": {"max_items": "none"}, "mathinstruct": {"max_items": "none"}}}


def decontamination_alone(
    dedup_dir: Path,
    run_dir: Path,
    names: list[str],
    embedding_queries: int,
    benchmark_texts: int,
    embedding_benchmark_texts: int,
    seed: int,
    log: Callable[[str], None],
) -> dict[str, Any]:
    results: dict[str, Any] = {}
    script = str(HERE / "child_decontaminate.py")

    def one(name: str, queries: int, texts: int, cache_dir: Path | None) -> dict[str, Any]:
        arguments = {
            "dedup_dir": str(dedup_dir),
            "name": name,
            "queries": queries,
            "benchmark_texts": texts,
            "planted": PLANTED,
            "seed": seed,
            "cache_dir": str(cache_dir) if cache_dir else None,
        }
        m = measured([sys.executable, script, json.dumps(arguments)], _env(run_dir))
        return _json_of(m, f"decontaminator {name}") | {
            "wall_s": m.wall_s,
            "peak_tree_rss_bytes": m.peak_tree_rss_bytes,
        }

    if "ngram" in names:
        log("decontamination alone: ngram")
        results["ngram"] = one("ngram", 0, benchmark_texts, None)
    if "embedding" in names and embedding_queries:
        cache = run_dir / "embedding-cache"
        log(f"decontamination alone: embedding on {embedding_queries:,} queries, cold cache")
        cold = one("embedding", embedding_queries, embedding_benchmark_texts, cache)
        log("decontamination alone: embedding, warm cache")
        results["embedding"] = {
            "cold_cache": cold,
            "warm_cache": one("embedding", embedding_queries, embedding_benchmark_texts, cache),
        }
    return results


# --- reporting ----------------------------------------------------------------------------


def _gb(n: int | None) -> str:
    return "-" if n is None else f"{n / 2**30:.2f} GiB"


def _s(x: float | None) -> str:
    return "-" if x is None else f"{x:.1f}"


def table(report: dict[str, Any]) -> str:
    m = report["machine"]
    lines = [
        f"Measured {report['date'][:10]} on {m['nproc']} cores ({m['cpu_model']}), {m['ram_bytes'] / 2**30:.0f} GiB RAM, "
        f"Python {m['python']}; `--num-proc {report['runs'][0]['num_proc'] if report['runs'] else '-'}`. Raw figures: `{report['file']}`. "
        "Load avg.: the machine's 1-minute load average when the run started (other work shares the cores).",
        "",
        "| source items | caps | dedupers | load avg. | wall (s) | load | dedup | decontam. (ngram) | render | items/s | rows written | render rows/s | peak RSS (tree) | output | rerun (s, % of first) |",
        "| ---: | --- | --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: |",
    ]
    for r in report["runs"]:
        st = {k: v["wall_s"] for k, v in r["stages"].items()}
        lines.append(
            f"| {r['items']:,} | {'lifted' if r['uncapped'] else 'default'} | {r.get('dedup', 'exact')} | {r['load_average_before_after'][0][0]:.1f} | {r['wall_s']:.1f} | {_s(st.get('load'))} | {_s(st.get('dedup'))} | {_s(st.get('decontaminate'))} | {_s(st.get('render'))} "
            f"| {r['items_per_s']:,.0f} | {r['rows_written']:,} | {r['render_rows_per_s'] or 0:,.0f} | {_gb(r['peak_tree_rss_bytes'])} | {_gb(r['output_bytes'])} "
            f"| {r['rerun']['wall_s']:.1f} ({100 * r['rerun']['share_of_first']:.0f}%) |"
        )
    alone = [(r["items"], name, d) for r in report["runs"] for name, d in r.get("decontamination_alone", {}).items()]
    if alone:
        lines += [
            "",
            "Decontaminators alone: synthetic benchmark texts plus copies of some queries (planted); texts sliced from one word pool share n-grams, so more items match than were planted:",
            "",
            "| source items | decontaminator | benchmark texts (planted) | queries | index (s) | search (s) | queries/s | matched |",
            "| ---: | --- | ---: | ---: | ---: | ---: | ---: | ---: |",
        ]
        for items, name, d in alone:
            variants = (
                [("", d)]
                if "cold_cache" not in d
                else [(" (cold cache)", d["cold_cache"]), (" (warm cache)", d["warm_cache"])]
            )
            for label, v in variants:
                lines.append(
                    f"| {items:,} | {name}{label} | {v['benchmark_texts']:,} ({v['planted']:,}) | {v['queries']:,} | {v['index_s']:.1f} | {v['search_s']:.1f} | {v['queries_per_s']:,.0f} | {v['matched']:,} |"
                )
    return "\n".join(lines)


def write_readme(readme: Path, report: dict[str, Any]) -> None:
    text = readme.read_text()
    head, rest = text.split(START, 1)
    _, tail = rest.split(END, 1)
    readme.write_text(f"{head}{START}\n{table(report)}\n{END}{tail}")


def run_all(
    sizes: list[int],
    seed: int,
    cache: Path,
    num_proc: int,
    embedding_queries: int,
    benchmark_texts: int,
    embedding_benchmark_texts: int,
    uncapped: bool,
    results_dir: Path,
    readme: Path | None,
    log: Callable[[str], None],
    dedup: str = "exact",
    alone: bool = True,
) -> dict[str, Any]:
    date = datetime.datetime.now(datetime.UTC)
    path = results_dir / f"scale-{date:%Y-%m-%d}.json"
    report = {
        "date": date.isoformat(timespec="seconds"),
        "machine": machine(),
        "file": str(path.relative_to(BENCHMARKS.parent)) if path.is_relative_to(BENCHMARKS.parent) else str(path),
        "runs": [],
    }
    results_dir.mkdir(parents=True, exist_ok=True)
    # Runs of the same day accumulate (one size per invocation is fine); a size run again
    # replaces its earlier figures.
    runs = json.loads(path.read_text())["runs"] if path.exists() else []
    for items in sizes:
        result = run_size(
            items,
            seed,
            cache,
            num_proc,
            embedding_queries,
            benchmark_texts,
            embedding_benchmark_texts,
            uncapped,
            log,
            dedup,
            alone,
        )
        same = lambda r: (r["items"], r["uncapped"], r.get("dedup", "exact")) == (items, uncapped, dedup)
        runs = [r for r in runs if not same(r)] + [result]
        report["runs"] = sorted(runs, key=lambda r: (r["uncapped"], r["items"], r.get("dedup", "exact")))
        # Written after every size, so a long series leaves its finished sizes behind.
        path.write_text(json.dumps(report, indent=1) + "\n")
        if readme is not None:
            write_readme(readme, report)
    return report
