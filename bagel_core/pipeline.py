"""``bagel run``: the pipeline from selected components to the output folder.

load -> dedup -> decontaminate -> render -> write, each stage cached in the work directory
under a fingerprint of config, plugin names and versions, and inputs (see
:mod:`bagel_core.stages`). The outputs are staged and published by :mod:`bagel_core.publish`:
the output folder is up to date only when its manifest's fingerprint matches and its files
are the ones the manifest describes.
"""

from __future__ import annotations

import dataclasses
import shutil
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Callable, Optional

from .components import BenchmarkText, Component, SpecialTokens
from .config import ConfigError, LoaderSettings, RunConfig, check_tables, loader_settings, make_options, select
from .context import LoadContext
from . import publish
from .data import DataAccess
from .health import source_warnings
from .processes import worker_pool
from .registry import ComponentInfo, Registry, core_version, current
from .stages.conversations import CONVERSATIONS, write_conversations
from .stages.decontaminate import CONTAMINATION_SCHEMA, run_decontaminate
from .plan import mixture_plan
from .stages.dedup import REPORT as DEDUP_REPORT, REPORT_SCHEMA as DEDUP_REPORT_SCHEMA, run_dedup
from .stages.load import Caps, LoadTask, run_load
from .stages.render import run_render
from .report import write_mixture_chart
from .stages.tokens import count_tokens
from .stages.write import write_card
from .storage import ParquetSink, atomic_path, fingerprint, read_json

#: Bumped when the layout of any stage's files changes, so old caches are not reused.
CACHE_VERSION = 1


@dataclass
class Selected:
    """A component chosen for this run, with its resolved options."""

    info: ComponentInfo
    options: Any
    #: The engine's settings of a loader (priority, cap); None for other kinds.
    settings: Optional[LoaderSettings] = None

    @property
    def priority(self) -> int:
        return self.settings.priority if self.settings else 0

    @property
    def cls(self) -> type[Component]:
        return self.info.cls

    def identity(self) -> dict[str, Any]:
        return {
            "kind": self.cls.kind,
            "name": self.cls.name,
            "distribution": self.info.plugin.distribution,
            "version": self.info.plugin.version,
            "options": dataclasses.asdict(self.options),
            **({"max_items": self.settings.max_items} if self.settings else {}),
        }


@dataclass
class RunResult:
    manifest: dict[str, Any]
    reused: bool
    timings: dict[str, float] = field(default_factory=dict)


def _select(registry: Registry, config: RunConfig, kind: str, selection) -> list[Selected]:
    chosen = []
    for name in select(registry, kind, selection):
        info = registry.get(kind, name)
        table = config.options.get(kind, {}).get(name, {})
        settings = loader_settings(info.cls, table) if kind in ("source", "dpo_builder") else None
        chosen.append(Selected(info, make_options(info.cls, table), settings))
    return chosen


def special_tokens(tokenizer: Optional[str]) -> SpecialTokens:
    """BOS/EOS strings of ``--tokenizer`` (any ``AutoTokenizer`` path), else the defaults."""
    if not tokenizer:
        return SpecialTokens()
    from transformers import AutoTokenizer

    try:
        tok = AutoTokenizer.from_pretrained(tokenizer)
    except (OSError, ValueError) as exc:  # no such folder or id, no tokenizer files in it
        first = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
        raise ConfigError(f"--tokenizer {tokenizer!r}: cannot load a tokenizer from it ({first})") from None
    default = SpecialTokens()
    return SpecialTokens(tok.bos_token or default.bos, tok.eos_token or default.eos, tokenizer)


def _data(config: RunConfig, cls) -> DataAccess:
    return DataAccess.for_component(cls, config.data_root, config.sample)


def benchmark_texts(selected: list[Selected], config: RunConfig) -> list[BenchmarkText]:
    texts: list[BenchmarkText] = []
    for s in selected:
        ctx = LoadContext(s.cls.name, config.seed, _data(config, s.cls), s.options)
        texts.extend(s.cls(s.options).texts(ctx))
    return texts


def _dpo_only_shards(config: RunConfig, tasks: list[LoadTask]) -> list[Path]:
    """The shards of the DPO builders ``[run] dpo_only`` names; each must be selected."""
    shards = {t.cls.name: t.shard for t in tasks if t.cls.kind == "dpo_builder"}
    missing = [name for name in config.dpo_only if name not in shards]
    if missing:
        raise ConfigError(f"[run] dpo_only names {missing}, not among the selected DPO builders {sorted(shards)}")
    return [shards[name] for name in config.dpo_only]


def _load_all(tasks: list[LoadTask], num_proc: int, log: Callable[[str], None]):
    pending = [t for t in tasks if not t.done()]
    for t in tasks:
        if t.done():
            log(f"load {t.cls.name}: reused")
    if num_proc > 1 and len(pending) > 1:
        with worker_pool(num_proc) as pool:
            list(pool.map(run_load, pending))
    else:
        for task in pending:
            run_load(task)
            log(f"load {task.cls.name}: done")
    return [run_load(t) for t in tasks]  # all cached now: reads the counts


def run(
    config: RunConfig,
    registry: Optional[Registry] = None,
    quiet: bool = True,
    log: Callable[[str], None] = lambda message: None,
    plan: bool = False,
    command: Optional[str] = None,
) -> RunResult:
    """Run the pipeline for ``config``; returns the manifest written to ``config.out``.

    ``plan``: stop after dedup and return the mixture plan instead (:mod:`bagel_core.plan`):
    nothing is rendered or written to ``config.out``. ``command`` is the command line that
    started the run, for the dataset card.
    """
    if registry is None:
        registry = current()
    # Every table is checked, selected or not: a typo is an error before any data is read.
    check_tables(registry, config.options)
    loaders = _select(registry, config, "source", config.sources) + _select(registry, config, "dpo_builder", config.dpo)
    # Highest priority first; ties alphabetically, as the reference's module order.
    loaders.sort(key=lambda s: (-s.priority, s.cls.name, s.cls.kind))
    formats = _select(registry, config, "format", config.formats)
    if config.formats == "all":
        # A tokenizer given for its BOS/EOS may have no chat template: such formats only by name.
        formats = [f for f in formats if not f.cls.requires_tokenizer]
    if not formats:
        raise ConfigError("select at least one prompt format (--formats)")
    dedupers = _select(registry, config, "deduper", config.dedup)
    for d in dedupers:  # a missing library or contradictory options fail before any loading
        try:
            d.cls(d.options)
        except (ImportError, ValueError) as exc:
            raise ConfigError(f"deduper {d.cls.name!r}: {exc}") from None
    decontaminators = _select(registry, config, "decontaminator", config.decontaminate)
    benchmarks = _select(registry, config, "benchmark", config.benchmarks) if decontaminators else []
    if decontaminators and not benchmarks:
        raise ConfigError("decontamination needs benchmark sets, but none are selected or installed")
    if config.copies_per_item is not None and config.copies_per_item > len(formats):
        raise ConfigError(f"--copies-per-item must be between 1 and the number of formats ({len(formats)}), got {config.copies_per_item}")

    timings: dict[str, float] = {}
    work, out = Path(config.work), Path(config.out)
    core = [core_version(), CACHE_VERSION]
    tokens = special_tokens(config.tokenizer)

    tasks = []
    load_fps = []
    for s in loaders:
        data_fp = _data(config, s.cls).fingerprint(s.cls.dataset_ids) + s.cls(s.options).input_fingerprint()
        caps = Caps(s.settings.max_items, s.cls.cap_per_stratum, config.global_cap, config.global_cap_sample)
        fp = fingerprint(core, s.identity(), config.seed, data_fp, dataclasses.asdict(caps))
        load_fps.append([s.priority, fp])
        tasks.append(LoadTask(s.cls, s.options, config.seed, config.data_root, config.sample, work / "load" / f"{s.cls.kind}-{s.cls.name}-{fp}.parquet", quiet, caps))
    dpo_only = _dpo_only_shards(config, tasks)  # checked before any data is read
    dedup_fp = fingerprint(core, load_fps, [d.identity() for d in dedupers], config.dedup_scope, sorted(config.dpo_only))
    decon_fp = fingerprint(dedup_fp, [d.identity() for d in decontaminators], [
        [b.identity(), _data(config, b.cls).fingerprint(b.cls.dataset_ids)] for b in benchmarks
    ], config.decontaminate_dry_run) if decontaminators else dedup_fp
    render_fp = fingerprint(decon_fp, [f.identity() for f in formats], config.seed, config.copies_per_item, config.format_assignment, config.newlines, dataclasses.asdict(tokens))

    manifest = None if plan else publish.current_manifest(out, render_fp)
    if manifest is not None:
        log("output is up to date: nothing to do")
        return RunResult(manifest, reused=True)

    publish.prepare(None if plan else out, work)  # a plan writes nothing into out
    started = time.perf_counter()
    counts = _load_all(tasks, config.num_proc, log)
    timings["load"] = time.perf_counter() - started

    started = time.perf_counter()
    dedup_dir = work / "dedup" / dedup_fp
    duplicates = run_dedup([t.shard for t in tasks], dedup_dir, lambda: [d.cls(d.options, cache_dir=work / "cache" / d.cls.name) for d in dedupers], config.dedup_scope, dpo_only)
    timings["dedup"] = time.perf_counter() - started
    log("dedup: done")
    if plan:
        names = [f.cls.name for f in formats]
        global_cap = (config.global_cap, config.global_cap_sample) if config.global_cap is not None else None
        return RunResult(mixture_plan(loaders, counts, duplicates, dedup_dir, names, config.seed, config.copies_per_item, config.format_assignment, global_cap), reused=False, timings=timings)

    started = time.perf_counter()
    if decontaminators:
        decon_dir = work / "decontaminate" / decon_fp
        if (decon_dir / "counts.json").exists():
            contamination = read_json(decon_dir / "counts.json")
        else:
            instances = [d.cls(d.options, cache_dir=work / "cache" / d.cls.name) for d in decontaminators]
            contamination = run_decontaminate(instances, benchmark_texts(benchmarks, config), dedup_dir, decon_dir, config.decontaminate_dry_run, quiet)
        log(f"decontaminate: {contamination['flagged']} items matched")
    else:
        decon_dir, contamination = dedup_dir, {"flagged": 0, "removed": 0, "dry_run": False, "by_origin": {}, "by_benchmark": {}}
    timings["decontaminate"] = time.perf_counter() - started

    started = time.perf_counter()
    instances = [f.cls(f.options, tokens) for f in formats]
    stage = publish.staging(out)  # the outputs are written here, then published into out
    written = run_render(instances, config.seed, config.copies_per_item, decon_dir, stage, config.num_proc, quiet, config.format_assignment, config.newlines)
    conversations = write_conversations(decon_dir, stage)
    for name, stage_dir, schema in (("contamination.parquet", decon_dir, CONTAMINATION_SCHEMA), (DEDUP_REPORT, dedup_dir, DEDUP_REPORT_SCHEMA)):
        report = stage_dir / name
        if report.exists():
            with atomic_path(stage / name) as tmp:
                shutil.copyfile(report, tmp)
        else:
            with ParquetSink(stage / name, schema):
                pass
    timings["render"] = time.perf_counter() - started
    log("render: done")

    sources: dict[str, Any] = {}
    for s, c in zip(loaders, counts):
        name = s.cls.name
        dups = duplicates.get(name, {})
        flagged = sum(contamination["by_origin"].get(name, {}).values())
        sources[name] = {
            "kind": s.cls.kind,
            "priority": s.priority,
            "distribution": s.info.plugin.distribution,
            "version": s.info.plugin.version,
            "dataset_ids": list(s.cls.dataset_ids),
            "loaded": c.loaded,
            "rejected": dict(sorted(c.rejected.items())),
            "rejected_examples": dict(sorted(c.examples.items())),
            "filtered": dict(sorted(c.filtered.items())),
            "filtered_examples": dict(sorted(c.filtered_examples.items())),
            "duplicates": dups.get("sft", 0) + dups.get("dpo", 0),
            # Per deduper: items removed, and the sources of the items they duplicate.
            "dedup": {
                d: {"removed": n["sft"] + n["dpo"], "lost_to": n["lost_to"]} for d, n in dups.get("by_deduper", {}).items()
            },
            # Matched a benchmark; removed unless the run was a dry run.
            "flagged": flagged,
            "contaminated": 0 if contamination["dry_run"] else flagged,
            **s.cls.card_metadata(),
            "rows_written": {"sft": written.get(name, {}).get("sft", 0), "dpo": written.get(name, {}).get("dpo", 0), "conversations": conversations.get(name, {}).get("rows", 0)},
        }
    manifest = {
        "bagel_version": core_version(),
        "fingerprint": render_fp,
        "command": command,
        "config": config.to_json(),
        "special_tokens": dataclasses.asdict(tokens),
        "plugins": [
            {"name": p.name, "distribution": p.distribution, "version": p.version, "error": p.error, "blocked": p.blocked}
            for p in registry.plugins
        ],
        "formats": [f.cls.name for f in formats],
        "dedupers": [d.cls.name for d in dedupers],
        "decontaminators": [d.cls.name for d in decontaminators],
        "benchmarks": [b.cls.name for b in benchmarks],
        "components": {"loaders": [s.identity() | {"priority": s.priority} for s in loaders], "formats": [f.identity() for f in formats], "dedupers": [d.identity() for d in dedupers], "decontaminators": [d.identity() for d in decontaminators], "benchmarks": [b.identity() for b in benchmarks]},
        "sources": sources,
        "contamination": contamination,
        "warnings": source_warnings(sources),
        "totals": {
            "loaded": sum(s["loaded"] for s in sources.values()),
            "duplicates": sum(s["duplicates"] for s in sources.values()),
            "contaminated": contamination["removed"],
            "sft_rows": sum(s["rows_written"]["sft"] for s in sources.values()),
            "dpo_rows": sum(s["rows_written"]["dpo"] for s in sources.values()),
            "conversations_rows": sum(s["rows_written"]["conversations"] for s in sources.values()),
            # Plain-text items: in sft.parquet, but they have no conversation.
            "conversations_skipped_plain_text": sum(c["plain text"] for c in conversations.values()),
        },
    }
    if config.tokenizer:
        started = time.perf_counter()
        manifest["tokens"] = count_tokens(stage, config.tokenizer)
        timings["tokens"] = time.perf_counter() - started
    if write_mixture_chart(stage) is None:  # the card embeds it when matplotlib is installed
        log("no mixture chart in the card: matplotlib is not installed (pip install 'bagel-core[report]')")
    write_card(stage, manifest, location=str(out.resolve()))  # the card names where it will be
    publish.publish(stage, out, manifest)
    return RunResult(manifest, reused=False, timings=timings)
