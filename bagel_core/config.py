"""The resolved configuration of a run: recipe file, then command-line flags on top.

A recipe is TOML::

    [run]
    sources = ["airoboros", "slimorca"]     # or "all" / "none"
    dpo = "all"
    formats = "all"
    dedup = ["exact", "minhash"]           # dedupers, chained in order [exact]
    decontaminate = ["ngram"]
    seed = 42

    [source.slimorca]                      # options of one component; "priority" for loaders
    priority = 3

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
from typing import Any, Optional, Union

from .components import Component, Loader
from .registry import TABLES, Registry, UnknownComponentError
from .rendering import FormatAssignment, NewlineRule
from .stages.dedup import DedupScope

Selection = Union[str, list[str]]

class ConfigError(Exception):
    """A recipe or flag is wrong; the message names it."""


@dataclass
class RunConfig:
    sources: Selection = "all"
    dpo: Selection = "all"
    formats: Selection = "all"
    #: Dedupers, chained in this order; ``exact`` is the reference's uuid5 dedup.
    dedup: Selection = "exact"
    decontaminate: Selection = "none"
    benchmarks: Selection = "all"
    out: Path = Path("bagel-out")
    work_dir: Optional[Path] = None
    data_root: Optional[Path] = None
    sample: bool = False
    seed: int = 42
    num_proc: int = 1
    copies_per_item: Optional[int] = None
    tokenizer: Optional[str] = None
    decontaminate_dry_run: bool = False
    #: How an item's ``copies_per_item`` formats are chosen: ``spread`` (equal shares) or
    #: ``random`` per item (the reference at v0.2, with one copy).
    format_assignment: FormatAssignment = "spread"
    #: Newline clean-up of answers (docs/formats.md#rendering-rules).
    newlines: NewlineRule = "newline-runs"
    #: ``separate``: SFT items and DPO pairs deduplicated apart; ``shared``: one seen-set across
    #: both in priority order, so a DPO prompt an SFT item already took is dropped (the reference).
    dedup_scope: DedupScope = "separate"
    #: DPO builders whose pairs are DPO-only: an SFT item with a pair's id is dropped (the
    #: reference's lmsys-chat-1m: ``["lmsys-chat-1m-dpo"]``).
    dpo_only: list[str] = field(default_factory=list)
    #: Per-kind, per-component option tables from the recipe.
    options: dict[str, dict[str, dict[str, Any]]] = field(default_factory=dict)

    @property
    def work(self) -> Path:
        return self.work_dir if self.work_dir is not None else self.out / ".bagel-work"

    def to_json(self) -> dict[str, Any]:
        data = dataclasses.asdict(self)
        for key in ("out", "work_dir", "data_root"):
            data[key] = str(data[key]) if data[key] is not None else None
        return data


_RUN_KEYS = {f.name for f in dataclasses.fields(RunConfig)} - {"options"}


def load_recipe(path: Path) -> dict[str, Any]:
    """Read a recipe into ``RunConfig`` keyword arguments."""
    try:
        data = tomllib.loads(Path(path).read_text())
    except FileNotFoundError:
        raise ConfigError(f"recipe {path} does not exist") from None
    except tomllib.TOMLDecodeError as exc:
        raise ConfigError(f"recipe {path} is not valid TOML: {exc}") from None
    unknown = set(data) - {"run"} - set(TABLES)
    if unknown:
        raise ConfigError(f"recipe {path}: unknown table(s) {sorted(unknown)}; expected run, {', '.join(TABLES)}")
    run = dict(data.get("run", {}))
    bad = set(run) - _RUN_KEYS
    if bad:
        raise ConfigError(f"recipe {path}: unknown key(s) in [run]: {sorted(bad)}; known: {sorted(_RUN_KEYS)}")
    for key in ("out", "work_dir", "data_root"):
        if run.get(key) is not None:
            run[key] = (Path(path).parent / run[key]).resolve()
    run["options"] = {TABLES[t].name: data[t] for t in TABLES if t in data}
    return run


def select(registry: Registry, kind: str, selection: Selection) -> list[str]:
    """Component names for ``"all"``, ``"none"``, ``"a,b"`` or a list; unknown names fail."""
    available = registry.of(kind)
    if isinstance(selection, str):
        text = selection.strip()
        if text == "all":
            return sorted(available)
        if text in ("none", ""):
            return []
        names = [n.strip() for n in text.split(",") if n.strip()]
    else:
        names = list(selection)
    for name in names:
        if name not in available:
            raise UnknownComponentError(kind, name, sorted(available))
    return list(dict.fromkeys(names))


def make_options(cls: type[Component], table: dict[str, Any]) -> Any:
    """``cls.Options`` from a recipe table; unknown keys and wrong types name the component."""
    fields = {f.name: f for f in dataclasses.fields(cls.Options)}
    values = {k: v for k, v in table.items() if not (k == "priority" and issubclass(cls, Loader))}
    unknown = set(values) - set(fields)
    if unknown:
        raise ConfigError(
            f"{cls.kind.replace('_', ' ')} {cls.name!r}: unknown option(s) {sorted(unknown)}; "
            f"options are {sorted(fields) or 'none'}"
        )
    defaults = cls.option_defaults()
    for key, value in values.items():
        default = defaults.get(key)
        if default is not None and not _same_kind(default, value):
            raise ConfigError(
                f"{cls.kind.replace('_', ' ')} {cls.name!r}: option {key!r} must be "
                f"{type(default).__name__}, got {value!r}"
            )
    return cls.Options(**values)


def _same_kind(default: Any, value: Any) -> bool:
    if isinstance(default, bool) or isinstance(value, bool):
        return isinstance(default, bool) and isinstance(value, bool)
    if isinstance(default, (int, float)):
        return isinstance(value, (int, float))
    if isinstance(default, (list, tuple)):
        return isinstance(value, (list, tuple))
    return isinstance(value, type(default))


def priority_of(cls: type[Loader], table: dict[str, Any]) -> int:
    value = table.get("priority", cls.priority)
    if not isinstance(value, int) or isinstance(value, bool):
        raise ConfigError(f"{cls.kind.replace('_', ' ')} {cls.name!r}: priority must be an int, got {value!r}")
    return value
