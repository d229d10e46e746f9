"""``bagel run``: the pipeline from selected components to the output folder.

:func:`run` checks the whole configuration, composes the stages (load per loader -> dedup ->
decontaminate -> render, :mod:`bagel_core.stages`), has the one :class:`~.stages.runner.Runner`
run them (cached in the work folder by fingerprint, resumed after a kill), and hands the result
to the write stage, which publishes it (:mod:`bagel_core.publish`): the output folder is up to
date only when its manifest's fingerprint matches and its files are the ones it describes.
"""

from __future__ import annotations

import dataclasses
import importlib.util
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Generic, TypeVar, cast

from . import errors, locks, publish
from .components import BenchmarkSet, Component, Decontaminator, Deduper, Loader, PromptFormat, SpecialTokens
from .config import (
    ConfigError,
    LoaderSettings,
    RunConfig,
    check_tables,
    loader_settings,
    make_options,
    select,
)
from .containment import contained, who
from .context import LoadCounts
from .data import DataAccess
from .plan import mixture_plan
from .processes import cores
from .registry import ComponentInfo, Registry, core_version, current, describe
from .stages.decontaminate import NO_CONTAMINATION, DecontaminateStage, DecontaminationUnavailable
from .stages.dedup import DedupStage
from .stages.load import SHARD, Caps, Limits, LoadStage, LoadTask
from .stages.render import RenderStage
from .stages.runner import Runner, StageResult
from .stages.write import build_manifest, write_outputs

#: Bumped when the layout of any stage's files changes, so old caches are not reused.
CACHE_VERSION = 2


C = TypeVar("C", bound=Component)


@dataclass
class Selected(Generic[C]):
    """A component chosen for this run, with its resolved options; ``C`` is its kind's base."""

    info: ComponentInfo
    options: Any
    #: The engine's settings of a loader (priority, cap); None for other kinds.
    settings: LoaderSettings | None = None

    @property
    def priority(self) -> int:
        return self.settings.priority if self.settings else 0

    @property
    def cls(self) -> type[C]:
        # The registry checked that the class subclasses its kind's base.
        return cast("type[C]", self.info.cls)

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


def _select(registry: Registry, config: RunConfig, kind: str, selection) -> list[Selected[Any]]:
    chosen: list[Selected[Any]] = []
    for name in select(registry, kind, selection):
        info = registry.get(kind, name)
        table = config.options.get(kind, {}).get(name, {})
        loader = kind in ("source", "dpo_builder")
        settings = loader_settings(cast("type[Loader]", info.cls), table) if loader else None
        chosen.append(Selected(info, make_options(info.cls, table), settings))
    return chosen


def special_tokens(tokenizer: str | None) -> SpecialTokens:
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


@dataclass
class Components:
    """Everything a run selected, resolved and checked before any data is read."""

    loaders: list[Selected[Loader]]
    formats: list[Selected[PromptFormat]]
    dedupers: list[Selected[Deduper]]
    decontaminators: list[Selected[Decontaminator]]
    benchmarks: list[Selected[BenchmarkSet]]


def resolve(config: RunConfig, registry: Registry) -> Components:
    """The selected components with their options; every problem is a ConfigError here."""
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
    if config.copies_per_item is not None and config.copies_per_item > len(formats):
        raise ConfigError(
            f"--copies-per-item must be between 1 and the number of formats ({len(formats)}), got {config.copies_per_item}"
        )
    if config.format_assignment == "chunks" and config.copies_per_item != len(formats) - 1:
        # The reference's cut leaves each format one quarter out: it is defined for n - 1 copies.
        raise ConfigError(
            f"--format-assignment chunks needs --copies-per-item {len(formats) - 1} (the number of formats less one),"
            f" got {config.copies_per_item}"
        )
    dedupers = _select(registry, config, "deduper", config.dedup)
    _check_modules(dedupers)
    for d in dedupers:  # a missing library or contradictory options fail before any loading
        try:
            with contained(who(d.cls)):
                d.cls(d.options)
        except (ImportError, ValueError) as exc:
            raise ConfigError(f"deduper {d.cls.name!r}: {exc}") from None
    decontaminators = _select(registry, config, "decontaminator", config.decontaminate)
    benchmarks = _select(registry, config, "benchmark", config.benchmarks) if decontaminators else []
    if decontaminators and not benchmarks:
        raise ConfigError("decontamination needs benchmark sets, but none are selected or installed")
    builders = [s.cls.name for s in loaders if s.cls.kind == "dpo_builder"]
    for key in ("dpo_only", "keep_identical_pairs"):
        missing = [name for name in getattr(config, key) if name not in builders]
        if missing:
            raise ConfigError(f"[run] {key} names {missing}, not among the selected DPO builders {sorted(builders)}")
    # A key is a loader's name or one of its source labels (cinematika_memories, glaive-func);
    # installed loaders that are not selected are fine (a recipe run with fewer sources).
    names = [*registry.of("source"), *registry.of("dpo_builder")]
    unknown = [
        k for k in config.shared_ids if not any(k in (n, n.replace("_", "-")) or k.startswith(f"{n}_") for n in names)
    ]
    if unknown:
        raise ConfigError(
            f"[run] shared_ids names {unknown}, neither an installed source or DPO builder nor one of its source labels"
        )
    _check_modules([*loaders, *formats, *decontaminators, *benchmarks])
    return Components(loaders, formats, dedupers, decontaminators, benchmarks)


def _check_modules(selected: list[Selected]) -> None:
    """A selected component's missing library is one line now, not an ImportError found after
    minutes of loading (or of distilling a model)."""
    for c in selected:
        for module in c.cls.requires_modules:
            if importlib.util.find_spec(module) is None:
                message = errors.describe(ModuleNotFoundError(name=module))
                off = {
                    "decontaminator": "; or turn it off (--decontaminate none)",
                    "deduper": "; or leave it out (--dedup)",
                }.get(c.cls.kind, "")
                raise ConfigError(f"{describe(c.cls)}: {message}{off}")


def _decontaminate(runner: Runner, stage: DecontaminateStage) -> StageResult:
    try:
        return runner.run(stage)
    except ModuleNotFoundError as exc:
        message = errors.describe(exc)
        if message is None:  # no module name: nothing to tell the user but the traceback
            raise
        raise DecontaminationUnavailable(f"decontamination: {message}; or turn it off (--decontaminate none)") from exc


@dataclass
class Stages:
    """The stages of one run, composed from its components; the runner runs them."""

    loads: list[LoadStage]
    dedup: DedupStage
    decontaminate: DecontaminateStage | None
    render: RenderStage


def compose(config: RunConfig, chosen: Components, tokens: SpecialTokens, quiet: bool) -> Stages:
    work = Path(config.work)
    loads = []
    for s in chosen.loaders:
        assert s.settings is not None  # a loader always has the engine's settings
        caps = Caps(s.settings.max_items, s.cls.cap_per_stratum, config.global_cap, config.global_cap_sample)
        limits = Limits(s.settings.max_turns, s.settings.max_chars, config.item_time_limit)
        task = LoadTask(
            s.cls,
            s.options,
            config.seed,
            config.data_root,
            config.sample,
            Path(SHARD),
            quiet,
            caps,
            limits,
            s.cls.kind == "dpo_builder" and s.cls.name in config.keep_identical_pairs,
        )
        with contained(who(s.cls)):
            data_fp = _data(config, s.cls).fingerprint(s.cls.dataset_ids) + s.cls(s.options).input_fingerprint()
        loads.append(LoadStage(task, s.identity() | {"priority": s.priority}, data_fp))
    names = [s.cls.name for s in chosen.loaders]
    dpo_only = [
        i for i, s in enumerate(chosen.loaders) if s.cls.kind == "dpo_builder" and s.cls.name in config.dpo_only
    ]
    # A DPO-only builder replaces the SFT items of the loaders that read its upstream data.
    twins = {
        b.cls.name: [
            s.cls.name
            for s in chosen.loaders
            if s.cls.kind == "source" and set(s.cls.dataset_ids) & set(b.cls.dataset_ids)
        ]
        for b in (chosen.loaders[i] for i in dpo_only)
    }
    dedup = DedupStage(
        loads,
        [(d.cls, d.options) for d in chosen.dedupers],
        [names, [d.identity() for d in chosen.dedupers]],
        config.dedup_scope,
        dpo_only,
        work / "cache",
        twins,
        config.shared_ids,
    )
    decontaminate = None
    if chosen.decontaminators:
        benchmarks = [(b.cls, b.options, _data(config, b.cls)) for b in chosen.benchmarks]
        identities = [
            [d.identity() for d in chosen.decontaminators],
            [
                [b.identity(), data.fingerprint(b.cls.dataset_ids)]
                for b, (_, _, data) in zip(chosen.benchmarks, benchmarks)
            ],
        ]
        decontaminate = DecontaminateStage(
            dedup,
            [(d.cls, d.options) for d in chosen.decontaminators],
            benchmarks,
            identities,
            config.seed,
            config.decontaminate_dry_run,
            work / "cache",
            quiet,
            config.num_proc,
        )
    render = RenderStage(
        decontaminate or dedup,
        [(f.cls, f.options) for f in chosen.formats],
        [f.identity() for f in chosen.formats],
        tokens,
        config.seed,
        config.copies_per_item,
        config.format_assignment,
        config.newlines,
        config.num_proc,
        quiet,
        dpo_chosen_newlines=config.dpo_chosen_newlines,
    )
    return Stages(loads, dedup, decontaminate, render)


def _usable_num_proc(config: RunConfig) -> RunConfig:
    """``config`` with ``num_proc`` at most the cores this process may use; lowering it is a
    one-line warning on stderr (even with --quiet: the user asked for more)."""
    usable = cores()
    if config.num_proc <= usable:
        return config
    print(
        f"warning: --num-proc {config.num_proc} lowered to {usable}: this process may use {usable} CPU core(s)",
        file=sys.stderr,
    )
    return dataclasses.replace(config, num_proc=usable)


def run(
    config: RunConfig,
    registry: Registry | None = None,
    quiet: bool = True,
    log: Callable[[str], None] = lambda message: None,
    plan: bool = False,
    command: str | None = None,
    force: bool = False,
    allow_empty: bool = False,
) -> RunResult:
    """Run the pipeline for ``config``; returns the manifest written to ``config.out``.

    ``plan``: stop after dedup and return the mixture plan instead (:mod:`bagel_core.plan`):
    nothing is rendered or written to ``config.out``. ``command`` is the command line that
    started the run, for the dataset card. ``force``: publish into a folder holding files
    bagel did not write (replacing only bagel's own file names); ``allow_empty``: publish an
    output without rows over one with rows (:mod:`bagel_core.publish`).
    """
    registry = registry if registry is not None else current()
    config = _usable_num_proc(config)
    chosen = resolve(config, registry)
    tokens = special_tokens(config.tokenizer)
    stages = compose(config, chosen, tokens, quiet)
    work, out = Path(config.work), Path(config.out)
    runner = Runner(work, [core_version(), CACHE_VERSION], log, quiet)

    fingerprint = runner.fingerprint(stages.render)
    manifest = None if plan else publish.current_manifest(out, fingerprint)
    if manifest is not None:
        log("output is up to date: nothing to do")
        return RunResult(manifest, reused=True)

    if not plan:  # before any data is read, and before a lock file is made in a folder that is not ours
        publish.claim(out, work, force)
    folders = ([] if plan else [(out, "output folder (--out)")]) + [(work, "work folder (--work-dir)")]
    with locks.hold_all(*folders):
        return _run_locked(
            config, registry, chosen, stages, runner, fingerprint, tokens, log, plan, command, force, allow_empty
        )


def _run_locked(
    config: RunConfig,
    registry: Registry,
    chosen: Components,
    stages: Stages,
    runner: Runner,
    fingerprint: str,
    tokens: SpecialTokens,
    log: Callable[[str], None],
    plan: bool,
    command: str | None,
    force: bool,
    allow_empty: bool,
) -> RunResult:
    """The stages and the publishing of :func:`run`, with the folders locked."""
    work, out = Path(config.work), Path(config.out)
    publish.prepare(None if plan else out, work)  # a plan writes nothing into out
    loads = runner.run_all(stages.loads, config.num_proc)
    counts = [LoadCounts.from_dict(r.counts) for r in loads]
    dedup = runner.run(stages.dedup)
    if plan:
        names = [f.cls.name for f in chosen.formats]
        global_cap = (
            (config.global_cap, config.global_cap_sample)
            if config.global_cap is not None and config.global_cap_sample is not None  # set together (RunConfig)
            else None
        )
        return RunResult(
            mixture_plan(
                chosen.loaders,
                counts,
                dedup.counts,
                dedup.folder,
                names,
                config.seed,
                config.copies_per_item,
                config.format_assignment,
                global_cap,
                [d.cls.name for d in chosen.decontaminators],
            ),
            reused=False,
            timings=runner.timings,
        )
    decontaminate = _decontaminate(runner, stages.decontaminate) if stages.decontaminate else None
    if decontaminate is not None:
        flagged = decontaminate.counts["flagged"]
        log(f"decontaminate: {flagged:,} item{'' if flagged == 1 else 's'} matched")
    render = runner.run(stages.render)

    started = time.perf_counter()
    manifest = build_manifest(
        config,
        registry,
        chosen,
        counts,
        dedup.counts,
        decontaminate.counts if decontaminate else NO_CONTAMINATION,
        render.counts,
        fingerprint,
        tokens,
        command,
    )
    write_outputs(
        out,
        manifest,
        render.folder,
        dedup.folder,
        decontaminate.folder if decontaminate else None,
        config.tokenizer,
        log,
        config.num_proc,
        work=work,
        force=force,
        allow_empty=allow_empty,
    )
    runner.timings["write"] = time.perf_counter() - started
    return RunResult(manifest, reused=False, timings=runner.timings)
