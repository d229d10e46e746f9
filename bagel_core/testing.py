"""Helpers for plugin authors' own tests, and a conformance check per kind (public, stable;
bagel's own plugins' tests use only these; docs/plugins.md, "Testing a plugin").

Example, in a plugin's test suite (tests/test_docs.py runs its like)::

    from bagel_core.testing import check_deduper, check_plugin, check_trainer, load_sample
    import my_plugin

    def test_conformance():
        check_plugin(my_plugin)                 # every component; AssertionError naming what is wrong

    def test_my_source_on_its_sample():
        records, counts = load_sample(my_plugin.MySource, {"instruction": "Translate:"})
        assert records[0]["conversations"][1]["value"] == "..."

    def test_my_deduper():
        check_deduper(my_plugin.MyDeduper)      # copies across batches found, the first of each kept

    def test_my_trainer(tmp_path):
        result = check_trainer(my_plugin.MyTrainer, ["--data", str(tmp_path / "sft.parquet")])
        assert "saved" in result.output         # `bagel train my-trainer --data ...` ran
"""

from __future__ import annotations

import dataclasses
import warnings
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from pathlib import Path
from typing import TYPE_CHECKING, Any

from . import registry as _registry
from .components import (
    BenchmarkSet,
    BenchmarkText,
    Component,
    Decontaminator,
    DedupBatch,
    Deduper,
    Duplicate,
    Loader,
    Match,
    PromptFormat,
    Query,
    SpecialTokens,
    Trainer,
)
from .config import RunConfig, loader_settings, make_options, select
from .context import LoadContext, LoadCounts
from .data import DataAccess
from .hookspecs import hookimpl
from .records import Record, Turn, uid
from .registry import KINDS, PluginError, Registry, kind_of, load_plugins, validate_component
from .rendering import NewlineRule, Renderer
from .stages.load import Caps, load_records
from .validation import validate_record

if TYPE_CHECKING:
    from click.testing import Result

__all__ = [
    "CONVERSATIONS",
    "LoadCounts",
    "TEMPLATE_CASES",
    "check_chat_template",
    "check_component",
    "check_decontaminator",
    "check_deduper",
    "check_plugin",
    "check_trainer",
    "invoke_cli",
    "load_context",
    "load_sample",
    "options_of",
    "registry_with",
    "render_dpo",
    "render_sft",
    "run_pipeline",
    "select_names",
    "special_tokens",
]

#: Conversations every format must render without error (single/multi-turn, with system).
CONVERSATIONS: list[list[Turn]] = [
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


def _options_table(cls: type[Component], options: Any, caller: str) -> dict[str, Any]:
    """``options`` as a recipe table. An ``Options`` instance (the 0.1 API) is deprecated: it is
    read field by field and checked like a table, with a ``DeprecationWarning``."""
    if options is None or isinstance(options, dict):
        return dict(options or {})
    if dataclasses.is_dataclass(options) and not isinstance(options, type):
        warnings.warn(
            f"{caller}(options={type(options).__qualname__}(...)) is deprecated since bagel-core 0.2 "
            f"and will stop working in 0.3: pass a dict, checked as a recipe's table is "
            f"({caller}({cls.__name__}, {{'key': value}}))",
            DeprecationWarning,
            stacklevel=3,
        )
        return {f.name: getattr(options, f.name) for f in dataclasses.fields(options)}
    raise TypeError(f"{caller}: options must be a dict (a recipe table), not {type(options).__name__}")


def options_of(cls: type[Component], options: dict[str, Any] | None = None) -> Any:
    """``cls.Options`` from a dict checked as a recipe's table for ``cls`` is (unknown keys and
    wrong types raise :class:`bagel_core.ConfigError` with the message a run gives)."""
    return make_options(cls, _options_table(cls, options, "options_of"))


def load_context(
    cls: type[Component] | str,
    options: dict[str, Any] | None = None,
    *,
    data_root: Path | None = None,
    sample: bool = False,
    hub: bool = True,
    seed: int = 42,
) -> LoadContext:
    """The :class:`bagel_core.LoadContext` a run gives component ``cls`` (a class, or just a name
    for a helper that takes a context), for calling ``rows`` / ``convert`` / ``setup`` / ``texts``
    or a helper of your own directly.

    Data comes from ``data_root`` in the upstream layout (``ROOT/owner/name/``), with
    ``sample=True`` from the samples the plugin ships (``data_root`` defaults to
    ``cls.sample_root``), and from the Hub when ``hub`` (never under ``sample``). ``options``
    is a dict checked as a recipe table; the context's ``counts`` hold what was rejected and
    filtered.
    """
    if isinstance(cls, str):
        name, opts = cls, None
    else:
        name, opts = cls.name, options_of(cls, options)
        if sample and data_root is None:
            data_root = getattr(cls, "sample_root", None)
    return LoadContext(name, seed, DataAccess(data_root, sample=sample, hub=hub), opts)


def load_sample(
    cls: type[Loader],
    options: dict[str, Any] | None = None,
    seed: int = 42,
    data_root: Path | None = None,
    *,
    sample: bool | None = None,
) -> tuple[list[Record], LoadCounts]:
    """Run a source or DPO builder as a run does (setup, rows/convert or load, the engine's
    validation and caps: ``{"max_items": 10}`` applies the engine's cap) on its shipped sample,
    or on ``data_root`` in the upstream layout when given. ``sample=False`` with no
    ``data_root`` reads what the options name (a ``local`` source's paths) or the Hub.

    ``options`` is a dict, validated as a recipe's ``[source.NAME]`` table is (unknown keys and
    wrong types fail with the message a run gives). Returns the valid records and the counts
    (loaded, rejected and filtered by reason).
    """
    table = _options_table(cls, options, "load_sample")
    opts = make_options(cls, table)
    caps = Caps(loader_settings(cls, table).max_items, cls.cap_per_stratum)
    sample = data_root is None if sample is None else sample
    data = DataAccess.for_component(cls, data_root, sample=sample)
    ctx = LoadContext(cls.name, seed, data, opts)
    records = load_records(cls(opts), ctx, caps)
    ctx.counts.loaded = len(records)
    return records, ctx.counts


def special_tokens(tokenizer: str | Path | None) -> SpecialTokens:
    """The BOS/EOS strings ``bagel run --tokenizer PATH`` gives formats (the defaults for ``None``)."""
    from .pipeline import special_tokens as of_tokenizer

    return of_tokenizer(str(tokenizer) if tokenizer is not None else None)


def render_sft(
    formats: Sequence[PromptFormat],
    turns: Sequence[Turn] | None,
    *,
    text: str | None = None,
    item_id: str = "item",
    source: str = "test",
    seed: int = 0,
    newlines: NewlineRule = "newline-runs",
) -> list[dict[str, str]]:
    """The ``sft.parquet`` rows ``bagel run`` writes for one SFT item (``turns``, or a plain
    ``text``) in each of ``formats`` (instances): ``{"id", "source", "format", "input",
    "output"}``, one per format and assistant turn, in that order. The default system prompt's
    coin depends on ``seed`` and ``item_id``, as in a run; ``newlines`` is ``--newlines``."""
    renderer = Renderer(list(formats), seed=seed, newlines=newlines)
    rows = renderer.sft_rows(item_id, source, turns, text, range(len(formats)))
    return [dict(zip(("id", "source", "format", "input", "output"), row)) for row in rows]


def render_dpo(
    formats: Sequence[PromptFormat],
    prompt: str,
    chosen: str,
    rejected: str,
    *,
    system: str | None = None,
    item_id: str = "pair",
    source: str = "test",
    seed: int = 0,
) -> list[dict[str, str]]:
    """The ``dpo.parquet`` rows ``bagel run`` writes for one DPO pair in each of ``formats``:
    ``{"id", "source", "format", "prompt", "chosen", "rejected"}``, one per format."""
    renderer = Renderer(list(formats), seed=seed)
    rows = renderer.dpo_rows(item_id, source, prompt, chosen, rejected, system, range(len(formats)))
    return [dict(zip(("id", "source", "format", "prompt", "chosen", "rejected"), row)) for row in rows]


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
        # transformers annotates it "-> str"; it returns (rendered conversations, generation indices).
        rendered, _ = render_jinja_template(  # type: ignore[str-unpack]
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


def select_names(kind: str, selection: str | Sequence[str], registry: Registry | None = None) -> list[str]:
    """The component names a ``--sources`` / ``--benchmarks`` / ... value selects, as ``bagel
    run`` resolves it (``"all"``, ``"none"``, group names, ``a,b``); ``kind`` is a recipe table
    name (``source``, ``dpo``, ``format``, ``deduper``, ``decontaminator``, ``benchmark``). An
    unknown name raises the error a run gives (``unknown benchmark 'x'; available: ...``)."""
    chosen = selection if isinstance(selection, str) else list(selection)
    return select(registry if registry is not None else _registry.current(), kind, chosen)


@contextmanager
def _using(registry: Registry | None) -> Iterator[None]:
    """``registry`` as the process's registry for the block (the CLI reads that one)."""
    before = _registry._CURRENT
    if registry is not None:
        _registry.use(registry)
    try:
        yield
    finally:
        _registry.use(before)


def invoke_cli(*args: str, registry: Registry | None = None, catch_exceptions: bool = True) -> Result:
    """``bagel ARGS`` in-process (click's ``CliRunner``) with ``registry`` (default: the
    installed plugins), e.g. ``invoke_cli("chat-template", "my-format")``. Returns click's
    ``Result``: ``exit_code``, ``output`` (stdout and stderr), ``stdout``, ``stderr``."""
    from click.testing import CliRunner

    from .cli import cli

    with _using(registry):
        return CliRunner().invoke(cli, [str(a) for a in args], catch_exceptions=catch_exceptions)


def run_pipeline(out: Path, registry: Registry | None = None, **config: Any):
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
        if cls.chat_template is not PromptFormat.chat_template:  # it has a template: it must match
            check_chat_template(cls)
    if issubclass(cls, BenchmarkSet) and cls.sample_root is not None:
        texts = list(cls(options).texts(LoadContext(cls.name, 0, DataAccess.for_component(cls, sample=True), options)))
        assert texts and all(t.text.strip() for t in texts), f"{cls.name}: no benchmark texts in its sample"
    if issubclass(cls, Decontaminator):
        check_decontaminator(cls)
    if issubclass(cls, Deduper):
        check_deduper(cls)
    if issubclass(cls, Trainer):
        check_trainer(cls)


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


#: Texts of :func:`check_deduper`: long enough for shingles and embeddings, and unrelated
#: to each other (no method should find two of them alike).
_DEDUP_TEXTS = (
    "Explain how the tilt of the Earth's axis causes the seasons, and why the southern hemisphere "
    "has summer while the northern hemisphere has winter.",
    "Write a Python function that returns the n-th Fibonacci number using an iterative loop "
    "instead of recursion, and give its time complexity.",
    "Translate the following sentence into French: the library opens at nine in the morning "
    "and closes at six in the evening on weekdays.",
    "List three practical tips for keeping a sourdough starter alive while travelling for two "
    "weeks without access to a refrigerator.",
)


def check_deduper(cls: type[Deduper], options: dict[str, Any] | None = None, cache_dir: Path | None = None) -> None:
    """Assert that deduper ``cls`` removes exact copies and keeps the first of each: fed two
    batches in priority order (positions 0-2, then 3, 4 and 6: not contiguous), where item 3
    copies item 0 and item 4 copies item 1 (same text and id), it must report exactly
    ``Duplicate(3, kept=0)`` and ``Duplicate(4, kept=1)``, with a similarity in 0..1, and
    leave the unrelated items alone; the rule the engine enforces (``kept`` is an earlier item
    the deduper keeps) is checked too."""
    a, b, c, d = _DEDUP_TEXTS
    first = DedupBatch(positions=[0, 1, 2], ids=[uid(a), uid(b), uid(c)], origins=["high"] * 3, texts=[a, b, c])
    second = DedupBatch(positions=[3, 4, 6], ids=[uid(a), uid(b), uid(d)], origins=["low"] * 3, texts=[a, b, d])
    deduper = cls(options_of(cls, options), cache_dir=cache_dir)
    deduper.add(first)
    deduper.add(second)
    found = list(deduper.duplicates())
    assert all(isinstance(x, Duplicate) for x in found), f"{cls.name}: duplicates() must give Duplicate objects"
    by_position = {x.position: x for x in found}
    assert len(by_position) == len(found), f"{cls.name}: an item is reported twice: {found}"
    for x in found:
        assert 0 <= x.kept < x.position and x.kept not in by_position, (
            f"{cls.name}: {x} must point to an earlier item the deduper keeps"
        )
        assert 0.0 <= float(x.similarity) <= 1.0, f"{cls.name}: similarity {x.similarity} is not in 0..1"
    got = sorted((x.position, x.kept) for x in found)
    assert got == [(3, 0), (4, 1)], f"{cls.name}: expected items 3 and 4 as copies of 0 and 1, got {got}"


class _Registers:
    """A plugin object registering one trainer, for :func:`check_trainer`."""

    def __init__(self, cls: type[Trainer]) -> None:
        self.cls = cls

    @hookimpl
    def register_trainers(self, register) -> None:
        register(self.cls)


def check_trainer(cls: type[Trainer], args: Sequence[str] | None = None) -> Result | None:
    """Assert that trainer ``cls`` works as ``bagel train NAME``: it overrides ``train()``,
    ``bagel train NAME --help`` lists a flag for every field of its ``Options``
    (``learning_rate`` -> ``--learning-rate``), and, given ``args``, ``bagel train NAME ARGS``
    exits with 0 (its output in the message otherwise). Returns click's ``Result`` of that run
    (``None`` without ``args``)."""
    assert cls.train is not Trainer.train, f"{cls.name}: a trainer must override train()"
    installed = load_plugins().of("trainer").get(cls.name)
    registry = (
        None
        if installed is not None and installed.cls is cls
        else registry_with((f"check:{cls.name}", _Registers(cls)))
    )
    shown = invoke_cli("train", cls.name, "--help", registry=registry)
    assert shown.exit_code == 0, f"{cls.name}: bagel train {cls.name} --help failed:\n{shown.output}"
    for f in dataclasses.fields(cls.Options):
        flag = "--" + f.name.replace("_", "-")
        assert flag in shown.output, f"{cls.name}: option {f.name!r} has no flag {flag} in bagel train --help"
    if args is None:
        return None
    result = invoke_cli("train", cls.name, *args, registry=registry)
    assert result.exit_code == 0, f"{cls.name}: bagel train {cls.name} {' '.join(args)} failed:\n{result.output}"
    return result


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
