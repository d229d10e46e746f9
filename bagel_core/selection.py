"""What a run selected: each component with its checked options (:class:`Selected`), by kind
(:class:`Components`); made by :func:`bagel_core.pipeline.resolve`, read by the stages' composition
and the manifest."""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass
from typing import Any, Generic, TypeVar, cast

from .components import BenchmarkSet, Component, Decontaminator, Deduper, Loader, PromptFormat
from .config import LoaderSettings
from .registry import ComponentInfo

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
class Components:
    """Everything a run selected, resolved and checked before any data is read."""

    loaders: list[Selected[Loader]]
    formats: list[Selected[PromptFormat]]
    dedupers: list[Selected[Deduper]]
    decontaminators: list[Selected[Decontaminator]]
    benchmarks: list[Selected[BenchmarkSet]]
