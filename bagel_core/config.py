"""The resolved configuration of a run: recipe file, then command-line flags on top.

A recipe is TOML::

    [run]
    sources = ["airoboros", "slimorca"]     # or "all" / "none"
    dpo = "all"
    formats = "all"
    dedup = ["exact", "minhash"]           # dedupers, chained in order [exact]
    decontaminate = ["ngram"]              # decontaminators, or "none" [ngram,embedding,code]
    seed = 42

    [source.slimorca]                      # options of one component; loaders also take
    priority = 3                           # the engine's own "priority" and "max_items"
    max_items = "none"

    [format.vicuna]
    system_prompt_probability = 0.5

    [deduper.minhash]
    threshold = 0.7

Tables are named by kind: ``source``, ``dpo``, ``format``, ``deduper``, ``decontaminator``, ``benchmark``.
"""

from __future__ import annotations

import dataclasses
import tomllib
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from .components import Component, Loader
from .options import ConfigError, build, check_table, fields_of
from .publish import WORK
from .registry import TABLES, Registry, UnknownComponentError, describe
from .rendering import FormatAssignment, NewlineRule
from .stages.dedup import DedupScope, SharedIds

__all__ = ["ConfigError", "RunConfig", "LoaderSettings", "load_recipe", "select", "make_options", "loader_settings"]

Selection = str | list[str]


@dataclass
class RunConfig:
    """Everything ``bagel run`` is told, typed: the ``[run]`` table and the flags."""

    sources: Selection = "all"
    dpo: Selection = "all"
    formats: Selection = "all"
    #: Dedupers, chained in this order; ``exact`` is the reference's uuid5 dedup.
    dedup: Selection = "exact"
    #: Decontaminators, each removing what it matches; ``"none"`` turns decontamination off.
    #: The default is the set the measurements of docs/decontamination.md were made with.
    decontaminate: Selection = "ngram,embedding,code"
    benchmarks: Selection = "all"
    out: Path = Path("bagel-out")
    work_dir: Path | None = None
    data_root: Path | None = None
    sample: bool = False
    seed: int = 42
    #: Worker processes; more than the cores this process may use (CPU affinity) is lowered to
    #: that, with a warning.
    num_proc: int = field(default=1, metadata={"min": 1})
    #: Seconds a loader may spend on one row (reading and converting it): a conversion past it
    #: is counted as rejected (``time limit``), a reader past it stops the run naming the loader
    #: and the row. ``None``: no limit (docs/pipeline.md#limits-and-plugin-containment).
    item_time_limit: float | None = field(default=None, metadata={"min": 0.001})
    copies_per_item: int | None = field(default=None, metadata={"min": 1})
    tokenizer: str | None = None
    decontaminate_dry_run: bool = False
    #: A loader that keeps at least this many items (after its own cap) is replaced by a seeded
    #: sample of ``global_cap_sample`` items (the reference at v0.2: 75,000 -> 50,000).
    global_cap: int | None = field(default=None, metadata={"min": 1})
    global_cap_sample: int | None = field(default=None, metadata={"min": 1})
    #: How an item's ``copies_per_item`` formats are chosen: ``spread`` (equal shares),
    #: ``random`` per item (the reference at v0.2, with one copy) or ``chunks`` (the reference
    #: later: overlapping slices, DPO pairs in their loaded order; needs n - 1 copies).
    format_assignment: FormatAssignment = "spread"
    #: Newline clean-up of answers (docs/formats.md#rendering-rules).
    newlines: NewlineRule = "newline-runs"
    #: Clean DPO chosen responses with the ``newlines`` rule too (the reference later did).
    dpo_chosen_newlines: bool = False
    #: ``separate``: SFT items and DPO pairs deduplicated apart; ``shared``: one seen-set across
    #: both in priority order, so a DPO prompt an SFT item already took is dropped (the reference).
    dedup_scope: DedupScope = "separate"
    #: ``shared`` scope: the reference's exceptions to its set of known ids, per loader name or
    #: source label: ``check`` (checked, ids not added), ``add`` (added, not checked) or
    #: ``none``; an unlisted loader does both (docs/dedup.md).
    shared_ids: dict[str, SharedIds] = field(default_factory=dict)
    #: DPO builders whose pairs are DPO-only: an SFT item with a pair's id is dropped (the
    #: reference's lmsys-chat-1m: ``["lmsys-chat-1m-dpo"]``).
    dpo_only: list[str] = field(default_factory=list)
    #: DPO builders whose pairs are kept even when chosen equals rejected (the core rejects them
    #: otherwise, ``chosen equals rejected``): the reference's gutenberg-dpo and py-dpo compared
    #: nothing (``["gutenberg-dpo", "py-dpo"]``, with their ``same_responses = "none"``).
    keep_identical_pairs: list[str] = field(default_factory=list)
    #: Per-kind, per-component option tables from the recipe and ``-o`` flags.
    options: dict[str, dict[str, dict[str, Any]]] = field(default_factory=dict)

    def __post_init__(self) -> None:
        values = {f.name: getattr(self, f.name) for f in dataclasses.fields(self) if f.name != "options"}
        for key, value in check_table("[run]", _RunKeys, values).items():
            setattr(self, key, value)
        for key in _SELECTIONS:  # "" or [] (an unset variable, a list emptied by hand) is not "none"
            value = getattr(self, key)
            if not any(str(n).strip() for n in (value.split(",") if isinstance(value, str) else value)):
                raise ConfigError(
                    f'[run]: {key} = {value!r} selects nothing; name the components, or write "all" or "none" (--{key.replace("_", "-")})'
                )
        if (self.global_cap is None) != (self.global_cap_sample is None):
            raise ConfigError("[run]: global_cap and global_cap_sample go together (set both or neither)")
        if (
            self.global_cap is not None
            and self.global_cap_sample is not None
            and self.global_cap_sample > self.global_cap
        ):
            raise ConfigError(
                f"[run]: global_cap_sample ({self.global_cap_sample}) must not exceed global_cap ({self.global_cap})"
            )

    @property
    def work(self) -> Path:
        return self.work_dir if self.work_dir is not None else self.out / WORK

    def to_json(self) -> dict[str, Any]:
        data = dataclasses.asdict(self)
        for key in ("out", "work_dir", "data_root"):
            data[key] = str(data[key]) if data[key] is not None else None
        return data


# The [run] keys alone (the option tables are checked per component).
_RunKeys = dataclasses.make_dataclass(
    "_RunKeys",
    [
        (f.name, f.type, field(default=f.default, default_factory=f.default_factory, metadata=f.metadata))
        for f in dataclasses.fields(RunConfig)
        if f.name != "options"
    ],
)
_RunKeys.__module__ = __name__
_RUN_KEYS = {f.name for f in dataclasses.fields(_RunKeys)}
_SELECTIONS = ("sources", "dpo", "formats", "dedup", "decontaminate", "benchmarks")


def load_recipe(path: Path) -> dict[str, Any]:
    """Read a recipe into ``RunConfig`` keyword arguments."""
    try:
        # utf-8-sig: a byte-order mark (Windows editors write one) is not a TOML statement.
        data = tomllib.loads(Path(path).read_text(encoding="utf-8-sig"))
    except FileNotFoundError:
        raise ConfigError(f"recipe {path} does not exist") from None
    except (UnicodeDecodeError, IsADirectoryError) as exc:
        raise ConfigError(f"recipe {path} is not a TOML text file: {exc}") from None
    except tomllib.TOMLDecodeError as exc:
        raise ConfigError(f"recipe {path} is not valid TOML: {exc}") from None
    unknown = set(data) - {"run"} - set(TABLES)
    if unknown:
        raise ConfigError(f"recipe {path}: unknown table(s) {sorted(unknown)}; expected run, {', '.join(TABLES)}")
    for table in ("run", *TABLES):
        if table in data and not isinstance(data[table], dict):
            raise ConfigError(f"recipe {path}: {table} must be a table ([{table}]), got {data[table]!r}")
    run = dict(data.get("run", {}))
    bad = set(run) - _RUN_KEYS
    if bad:
        raise ConfigError(f"recipe {path}: unknown key(s) in [run]: {sorted(bad)}; known: {sorted(_RUN_KEYS)}")
    for key in ("out", "work_dir", "data_root"):
        if isinstance(run.get(key), str) and run[key].strip():  # "" is left for RunConfig to refuse
            run[key] = (Path(path).parent / run[key]).resolve()
    options: dict[str, dict[str, dict[str, Any]]] = {}
    for table in TABLES:
        for name, values in data.get(table, {}).items():
            if not isinstance(values, dict):
                raise ConfigError(f"recipe {path}: [{table}.{name}] must be a table of options, got {values!r}")
            options.setdefault(TABLES[table].name, {})[name] = values
    run["options"] = options
    return run


def option_assignments(pairs: list[tuple[str, Any]]) -> dict[str, dict[str, dict[str, Any]]]:
    """``bagel run -o KIND.NAME.KEY=VALUE`` pairs as option tables (``KIND`` as in a recipe)."""
    tables: dict[str, dict[str, dict[str, Any]]] = {}
    for key, value in pairs:
        parts = key.split(".")
        if len(parts) < 3 or parts[0] not in TABLES:
            raise ConfigError(f"-o {key}: expected KIND.NAME.KEY with KIND one of {', '.join(TABLES)}")
        kind, name, option = TABLES[parts[0]].name, ".".join(parts[1:-1]), parts[-1]
        tables.setdefault(kind, {}).setdefault(name, {})[option] = value
    return tables


def merge_options(base: dict, extra: dict) -> dict:
    """Option tables of ``extra`` over those of ``base`` (key by key)."""
    merged = {kind: {name: dict(table) for name, table in tables.items()} for kind, tables in base.items()}
    for kind, tables in extra.items():
        for name, table in tables.items():
            merged.setdefault(kind, {}).setdefault(name, {}).update(table)
    return merged


def select(registry: Registry, kind: str, selection: Selection) -> list[str]:
    """Component names for ``"all"``, ``"none"``, ``"a,b"`` or a list; unknown names fail
    (:class:`RunConfig` has refused an empty selection). A name that is no component but a
    group some components declare (``groups``, benchmark sets' ``legacy`` and ``current``)
    stands for those components, alphabetically."""
    available = registry.of(kind)
    if isinstance(selection, str):
        text = selection.strip()
        if text == "all":
            return sorted(available)
        if text == "none":
            return []
        names = [n.strip() for n in text.split(",") if n.strip()]
    else:
        names = list(selection)
    groups: dict[str, list[str]] = {}
    for name in sorted(available):
        for group in getattr(available[name].cls, "groups", ()):
            groups.setdefault(group, []).append(name)
    chosen: list[str] = []
    for name in names:
        if name in available:
            chosen.append(name)
        elif name in groups:
            chosen.extend(groups[name])
        else:
            raise UnknownComponentError(kind, name, sorted(available) + [f"{g} (group)" for g in sorted(groups)])
    return list(dict.fromkeys(chosen))


def _where(cls: type[Component]) -> str:
    return describe(cls)  # "DPO builder 'x'": the kind's one spelling in messages


#: Default per-item limits of every loader (the table that chose them: docs/pipeline.md).
MAX_TURNS, MAX_CHARS = 500, 1_000_000


@dataclass(frozen=True)
class LoaderSettings:
    """The settings the engine owns for every loader, defaulting to the class's."""

    priority: int
    max_items: int | None = field(default=None, metadata={"min": 1})
    #: A conversation of more turns is rejected (``too many turns``): an item of n turns
    #: renders into n/2 rows of up to n turns each (docs/pipeline.md#limits-and-plugin-containment).
    max_turns: int | None = field(default=MAX_TURNS, metadata={"min": 1})
    #: A record whose texts hold more characters in all is rejected (``too long``).
    max_chars: int | None = field(default=MAX_CHARS, metadata={"min": 1})


_ENGINE_KEYS = {f.name for f in dataclasses.fields(LoaderSettings)}


def loader_settings(cls: type[Loader], table: dict[str, Any]) -> LoaderSettings:
    """``priority``, ``max_items``, ``max_turns`` and ``max_chars`` of a loader's table
    (``"none"``: no cap or limit), checked."""
    values = {"priority": cls.priority, "max_items": cls.max_items, "max_turns": MAX_TURNS, "max_chars": MAX_CHARS}
    values.update({k: v for k, v in table.items() if k in _ENGINE_KEYS})
    return build(_where(cls), LoaderSettings, values)


def make_options(cls: type[Component], table: dict[str, Any]) -> Any:
    """``cls.Options`` from a recipe table, every value checked against its annotation; for a
    loader, the engine's own keys (``priority``, ``max_items``) are left to
    :func:`loader_settings`."""
    if issubclass(cls, Loader):
        clash = _ENGINE_KEYS & set(fields_of(cls.Options))
        if clash:
            raise ConfigError(f"{_where(cls)}: Options may not define {sorted(clash)}: the engine owns them")
        table = {k: v for k, v in table.items() if k not in _ENGINE_KEYS}
    return build(_where(cls), cls.Options, table)


def check_tables(registry: Registry, options: dict[str, dict[str, dict[str, Any]]]) -> None:
    """Every option table names an installed component and holds valid options."""
    for kind, tables in options.items():
        for name, table in tables.items():
            cls = registry.get(kind, name).cls
            make_options(cls, table)
            if issubclass(cls, Loader):
                loader_settings(cls, table)
