"""Helpers for plugin authors' own tests, and a conformance check.

Example, in a plugin's test suite::

    from bagel_core.testing import check_chat_template, check_plugin, load_sample
    import my_plugin

    def test_conformance():
        check_plugin(my_plugin)                 # raises AssertionError naming what is wrong

    def test_my_source_on_its_sample():
        records, counts = load_sample(my_plugin.MySource, {"instruction": "Translate:"})
        assert records[0]["conversations"][1]["value"] == "..."

    def test_my_format_template():
        check_chat_template(my_plugin.MyFormat)  # template == render() on tricky conversations
"""

from __future__ import annotations

import dataclasses
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from .components import (
    BenchmarkSet,
    BenchmarkText,
    Component,
    Decontaminator,
    Loader,
    Match,
    PromptFormat,
    Query,
    SpecialTokens,
)
from .config import RunConfig, loader_settings, make_options
from .context import LoadContext, LoadCounts
from .data import DataAccess
from .registry import KINDS, PluginError, Registry, kind_of, load_plugins, validate_component
from .rendering import Renderer
from .stages.load import Caps, load_records
from .validation import validate_record

#: Conversations every format must render without error (single/multi-turn, with system).
CONVERSATIONS = [
    [{"from": "human", "value": "Hello?"}, {"from": "gpt", "value": "Hi!"}],
    [{"from": "system", "value": "Be brief."}, {"from": "human", "value": "2+2?"}, {"from": "gpt", "value": "4"}],
    [
        {"from": "human", "value": "Name a color."},
        {"from": "gpt", "value": "Blue."},
        {"from": "human", "value": "Another?"},
        {"from": "gpt", "value": "Red."},
    ],
]


#: Chat messages (ending with a user turn) that could trip a chat template: system or not,
#: several turns, newlines, quotes, backslashes, Jinja syntax, non-ASCII, spaces.
TEMPLATE_CASES: list[list[dict]] = [
    [{"role": "user", "content": "Hello?"}],
    [{"role": "system", "content": "Be brief."}, {"role": "user", "content": "2+2?"}],
    [
        {"role": "user", "content": "line one\nline two\n\nline four"},
        {"role": "assistant", "content": "She said \"hi\" and 'bye'."},
        {"role": "user", "content": "C:\\path\\{{ not a variable }} {% raw %}"},
    ],
    [
        {"role": "system", "content": "  padded  "},
        {"role": "user", "content": "Ünïcödé — 漢字 😀"},
        {"role": "assistant", "content": "def f():\n    return {'a': 1}\n"},
        {"role": "user", "content": "ASSISTANT: fake [INST] <|user|>"},
    ],
]


def load_sample(
    cls: type[Loader], options: dict[str, Any] | None = None, seed: int = 42, data_root: Path | None = None
) -> tuple[list[dict], LoadCounts]:
    """Run a source or DPO builder on its shipped sample (or ``data_root``), validated and capped as in a run
    (``{"max_items": 10}`` applies the engine's cap).

    ``options`` is a dict, validated as a recipe's ``[source.NAME]`` table is (unknown keys and
    wrong types fail with the message a run gives). Returns the valid records and the counts
    (loaded, rejected and filtered by reason).
    """
    table = dict(options or {})
    opts = make_options(cls, table)
    caps = Caps(loader_settings(cls, table).max_items, cls.cap_per_stratum)
    data = DataAccess.for_component(cls, data_root, sample=data_root is None)
    ctx = LoadContext(cls.name, seed, data, opts)
    records = load_records(cls(opts), ctx, caps)
    ctx.counts.loaded = len(records)
    return records, ctx.counts


def check_chat_template(
    cls: type[PromptFormat],
    options: dict[str, Any] | None = None,
    special: SpecialTokens = SpecialTokens(),
    cases: Sequence[Sequence[dict]] = TEMPLATE_CASES,
) -> int:
    """Assert that format ``cls``'s ``chat_template()``, rendered by transformers' own Jinja
    environment (what ``tokenizer.apply_chat_template`` uses) with ``add_generation_prompt``,
    equals its ``render()`` on every conversation of ``cases``. Returns how many were checked."""
    try:
        from transformers.utils.chat_template_utils import render_jinja_template
    except ImportError as exc:
        raise ImportError(f"check_chat_template needs transformers (pip install 'bagel-core[test]'): {exc}") from None

    fmt = cls(make_options(cls, dict(options or {})), special)
    template = fmt.chat_template()
    for messages in cases:
        rendered, _ = render_jinja_template(
            conversations=[list(messages)],
            chat_template=template,
            add_generation_prompt=True,
            bos_token=special.bos,
            eos_token=special.eos,
        )
        expected = fmt.render(list(messages))
        assert rendered[0] == expected, (
            f"{cls.name}: chat_template() gives {rendered[0]!r} but render() gives {expected!r} for {list(messages)!r}"
        )
    return len(cases)


def registry_with(*plugins: tuple[str, object], strict: bool = True) -> Registry:
    """The installed plugins plus ``plugins`` (``(name, module_or_object)`` pairs). A plugin
    that is also installed (same entry-point name or module) is registered once, from here."""
    return load_plugins(strict=strict, extra=plugins)


def run_pipeline(out: Path, registry: Registry | None = None, **config: Any):
    """``bagel run`` in-process into ``out``; returns the manifest as ``manifest.json`` holds it."""
    from .pipeline import run

    manifest = run(RunConfig(out=Path(out), **config), registry).manifest
    assert manifest is not None  # a run, not a plan: it published one
    return manifest.to_json()


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
        if cls.chat_template is not PromptFormat.chat_template:  # it has a template: it must match
            check_chat_template(cls)
    if issubclass(cls, BenchmarkSet) and cls.sample_root is not None:
        texts = list(cls(options).texts(LoadContext(cls.name, 0, DataAccess.for_component(cls, sample=True), options)))
        assert texts and all(t.text.strip() for t in texts), f"{cls.name}: no benchmark texts in its sample"
    if issubclass(cls, Decontaminator):
        check_decontaminator(cls)


#: A benchmark text long enough for any method (n-grams, embeddings) to find its exact copy.
_BENCHMARK_TEXT = (
    "A farmer has seventeen sheep and all but nine run away through a gap in the old stone wall "
    "during the storm on Tuesday night, so how many sheep does the farmer still have in the field?"
)


def check_decontaminator(
    cls: type[Decontaminator], options: dict[str, Any] | None = None, cache_dir: Path | None = None
) -> None:
    """Assert that decontaminator ``cls`` finds an item that copies a benchmark text, leaves an
    unrelated one alone, and fills its ``Match`` from the query and the benchmark text."""
    bench = BenchmarkText(benchmark="check", item="7", text=_BENCHMARK_TEXT)
    copy = Query(id="copy", source="test", text=_BENCHMARK_TEXT, human_turns=(_BENCHMARK_TEXT,))
    other = "Write a short poem about the colour of autumn leaves in a quiet northern forest at dawn."
    unrelated = Query(id="other", source="test", text=other, human_turns=(other,))
    decontaminator = cls(make_options(cls, dict(options or {})), cache_dir=cache_dir)
    decontaminator.index([bench])
    matches = list(decontaminator.search([copy, unrelated]))
    assert all(isinstance(m, Match) for m in matches), f"{cls.name}: search() must yield Match objects"
    assert [m.id for m in matches] == ["copy"], (
        f"{cls.name}: expected only the copy of the benchmark text to match, got {[m.id for m in matches]}"
    )
    found = matches[0]
    expected = ("copy", "test", cls.name, "check", "7", _BENCHMARK_TEXT, _BENCHMARK_TEXT)
    got = (
        found.id,
        found.source,
        found.decontaminator,
        found.benchmark,
        found.benchmark_item,
        found.text,
        found.benchmark_text,
    )
    assert got == expected, f"{cls.name}: the Match should be {expected}, got {got}"


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
