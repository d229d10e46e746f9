"""pluggy hook specifications of bagel: one hook per kind of component.

Every hook receives a ``register`` callable. A plugin calls it with component *classes*
(subclasses of the bases in :mod:`bagel_core.components`), so importing a plugin costs nothing
and heavy libraries load only when a component is used::

    from bagel_core import hookimpl

    @hookimpl
    def register_sources(register):
        register(MySource)
"""

from __future__ import annotations

from collections.abc import Callable

import pluggy

PROJECT = "bagel"
hookspec = pluggy.HookspecMarker(PROJECT)
hookimpl = pluggy.HookimplMarker(PROJECT)

Register = Callable[[type], None]


@hookspec
def register_sources(register: Register) -> None:
    """Register SFT data sources: subclasses of :class:`bagel_core.components.Source`."""


@hookspec
def register_dpo_builders(register: Register) -> None:
    """Register DPO builders: subclasses of :class:`bagel_core.components.DPOBuilder`."""


@hookspec
def register_formats(register: Register) -> None:
    """Register prompt formats: subclasses of :class:`bagel_core.components.PromptFormat`."""


@hookspec
def register_decontaminators(register: Register) -> None:
    """Register decontaminators: subclasses of :class:`bagel_core.components.Decontaminator`."""


@hookspec
def register_benchmarks(register: Register) -> None:
    """Register benchmark test sets: subclasses of :class:`bagel_core.components.BenchmarkSet`."""


@hookspec
def register_dedupers(register: Register) -> None:
    """Register dedupers: subclasses of :class:`bagel_core.components.Deduper`."""


@hookspec
def register_trainers(register: Register) -> None:
    """Register trainers: subclasses of :class:`bagel_core.components.Trainer`."""


@hookspec
def register_commands(cli: object) -> None:
    """Add commands to the ``bagel`` CLI; ``cli`` is the root ``click.Group``."""
