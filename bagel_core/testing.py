"""Helpers for plugin authors' own tests, and a conformance check.

Example, in a plugin's test suite::

    from bagel_core.testing import check_plugin, load_sample
    import my_plugin.plugin

    def test_conformance():
        check_plugin(my_plugin.plugin)          # raises AssertionError naming what is wrong

    def test_my_source_on_its_sample():
        records, counts = load_sample(MySource)
        assert records[0]["conversations"][1]["value"] == "..."
"""

from __future__ import annotations

import dataclasses
from pathlib import Path
from typing import Any, Optional

from .components import BenchmarkSet, Component, Decontaminator, Loader, PromptFormat, SpecialTokens
from .config import RunConfig
from .context import LoadContext, LoadCounts
from .data import DataAccess
from .registry import KINDS, PluginError, Registry, kind_of, load_plugins, validate_component
from .rendering import Renderer
from .stages.load import validated
from .validation import validate_record

#: Conversations every format must render without error (single/multi-turn, with system).
CONVERSATIONS = [
    [{"from": "human", "value": "Hello?"}, {"from": "gpt", "value": "Hi!"}],
    [{"from": "system", "value": "Be brief."}, {"from": "human", "value": "2+2?"}, {"from": "gpt", "value": "4"}],
    [
        {"from": "human", "value": "Name a color."}, {"from": "gpt", "value": "Blue."},
        {"from": "human", "value": "Another?"}, {"from": "gpt", "value": "Red."},
    ],
]


def load_sample(cls: type[Loader], options: Any = None, seed: int = 42, data_root: Optional[Path] = None) -> tuple[list[dict], LoadCounts]:
    """Run a source or DPO builder on its shipped sample (or ``data_root``), validated as in a run.

    Returns the valid records and the counts (loaded, rejected and filtered by reason).
    """
    options = options if options is not None else cls.Options()
    data = DataAccess.for_component(cls, data_root, sample=data_root is None)
    ctx = LoadContext(cls.name, seed, data, options)
    records = list(validated(cls(options).load(ctx), ctx))
    ctx.counts.loaded = len(records)
    return records, ctx.counts


def registry_with(*plugins: tuple[str, object], strict: bool = True) -> Registry:
    """The installed plugins plus ``plugins`` (``(name, module_or_object)`` pairs). A plugin
    that is also installed (same entry-point name or module) is registered once, from here."""
    return load_plugins(strict=strict, extra=plugins)


def run_pipeline(out: Path, registry: Optional[Registry] = None, **config: Any):
    """``bagel run`` in-process into ``out``; returns the manifest."""
    from .pipeline import run

    return run(RunConfig(out=Path(out), **config), registry).manifest


def check_component(cls: type[Component]) -> None:
    """Assert that ``cls`` meets the contract of its kind; raises ``AssertionError`` naming the problem."""
    kind = kind_of(cls)
    assert kind is not None, f"{cls!r} is not a bagel component"
    try:
        validate_component(kind, cls)
    except PluginError as exc:
        raise AssertionError(str(exc)) from None
    assert cls.description.strip() and "\n" not in cls.description.strip(), f"{cls.name}: description must be one line"
    options = cls.Options()
    assert dataclasses.is_dataclass(options)
    if issubclass(cls, Loader) and cls.sample_root is not None:
        # dataset_ids may list alternatives chosen by options: the defaults must run on the sample.
        records, _ = load_sample(cls)
        assert records, f"{cls.name}: its sample yields no valid record"
        for record in records:
            assert validate_record(record) is None
    if issubclass(cls, PromptFormat) and not cls.requires_tokenizer:
        renderer = Renderer([cls(options, SpecialTokens())], seed=0)
        for turns in CONVERSATIONS:
            rows = list(renderer.sft_rows("id", "test", turns, None, [0]))
            assert len(rows) == sum(t["from"] == "gpt" for t in turns)
            assert all(isinstance(r[3], str) and r[3] for r in rows), f"{cls.name}: empty rendered input"
    if issubclass(cls, BenchmarkSet) and cls.sample_root is not None:
        texts = list(cls(options).texts(LoadContext(cls.name, 0, DataAccess.for_component(cls, sample=True), options)))
        assert texts and all(t.text.strip() for t in texts), f"{cls.name}: no benchmark texts in its sample"
    if issubclass(cls, Decontaminator):
        assert callable(getattr(cls, "index")) and callable(getattr(cls, "search"))


def check_plugin(plugin: object) -> list[type[Component]]:
    """Assert that every component ``plugin`` registers passes :func:`check_component`."""
    import pluggy

    from . import hookspecs

    pm = pluggy.PluginManager(hookspecs.PROJECT)
    pm.add_hookspecs(hookspecs)
    pm.register(plugin)
    unknown = [hc.name for hc in pm.get_hookcallers(plugin) or () if hc.spec is None]
    assert not unknown, f"unknown hook(s): {unknown}"
    found: list[type[Component]] = []
    for kind in KINDS:
        getattr(pm.hook, kind.hook)(register=found.append)
    assert found, "the plugin registers no component"
    for cls in found:
        check_component(cls)
    return found
