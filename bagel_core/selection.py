"""What a run selected: each component with its checked options (:class:`Selected`), by kind
(:class:`Components`); made by :func:`bagel_core.pipeline.resolve`, read by the stages' composition
and the manifest."""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass
from typing import Any

from .components import Component
from .config import LoaderSettings
from .registry import ComponentInfo


@dataclass
class Selected:
    """A component chosen for this run, with its resolved options."""

    info: ComponentInfo
    options: Any
    #: The engine's settings of a loader (priority, cap); None for other kinds.
    settings: LoaderSettings | None = None

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
class Components:
    """Everything a run selected, resolved and checked before any data is read."""

    loaders: list[Selected]
    formats: list[Selected]
    dedupers: list[Selected]
    decontaminators: list[Selected]
    benchmarks: list[Selected]
