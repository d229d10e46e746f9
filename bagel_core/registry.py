"""The registry of components: which kinds exist, which plugins provide which components, and
the one registry of this process that the CLI, the trainers and the tests use.

``KINDS`` is the single table of component kinds: a new kind (say, dedupers) is one row here
plus its hook specification in :mod:`bagel_core.hookspecs`.

Plugins come from the ``bagel`` entry-point group. Each loads in its own ``try``: a plugin that
fails to import, or whose hook raises, is recorded with its error (one line, with the file and
line at fault) and every command still works. Two plugins registering the same kind and name
are recorded as a clash, fatal only for a run that selects that name.
``BAGEL_DISABLE_PLUGINS=a,b`` blocks plugins by entry-point name; ``BAGEL_STRICT_PLUGINS=1``
(or ``bagel --strict``) turns any plugin error or clash into a failure.
"""

from __future__ import annotations

import dataclasses
import importlib.metadata as md
import inspect
import os
import re
import traceback
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any

import pluggy

from . import hookspecs
from .components import (
    BenchmarkSet,
    Component,
    Decontaminator,
    Deduper,
    DPOBuilder,
    Loader,
    PromptFormat,
    Source,
    Trainer,
)
from .containment import PluginExit, contained, stdout_to_stderr

ENTRY_POINT_GROUP = "bagel"
DISABLE_ENV = "BAGEL_DISABLE_PLUGINS"
STRICT_ENV = "BAGEL_STRICT_PLUGINS"


@dataclass(frozen=True)
class Kind:
    """One kind of component: how plugins register it, what it subclasses, where a recipe
    sets its options, and how messages and ``bagel list-plugins`` name it."""

    #: The ``kind`` class attribute of its base, and the key in :attr:`Registry.components`.
    name: str
    #: The pluggy hook that registers it.
    hook: str
    base: type[Component]
    #: Recipe table of its options: ``[<table>.NAME]``; ``None`` when set elsewhere (CLI flags).
    table: str | None
    #: Singular, in messages ("unknown DPO builder 'x'").
    label: str
    #: Plural, in ``bagel list-plugins``.
    listing: str


KINDS: tuple[Kind, ...] = (
    Kind("source", "register_sources", Source, "source", "source", "sources"),
    Kind("dpo_builder", "register_dpo_builders", DPOBuilder, "dpo", "DPO builder", "DPO builders"),
    Kind("format", "register_formats", PromptFormat, "format", "format", "formats"),
    Kind(
        "decontaminator",
        "register_decontaminators",
        Decontaminator,
        "decontaminator",
        "decontaminator",
        "decontaminators",
    ),
    Kind("benchmark", "register_benchmarks", BenchmarkSet, "benchmark", "benchmark", "benchmarks"),
    Kind("deduper", "register_dedupers", Deduper, "deduper", "deduper", "dedupers"),
    Kind("trainer", "register_trainers", Trainer, None, "trainer", "trainers"),
)
_BY_NAME = {k.name: k for k in KINDS}
#: Recipe table name -> kind.
TABLES = {k.table: k for k in KINDS if k.table is not None}


def kind(name: str) -> Kind:
    return _BY_NAME[name]


def kind_of(cls: type) -> Kind | None:
    """The kind whose base ``cls`` subclasses, or ``None``."""
    return next((k for k in KINDS if isinstance(cls, type) and issubclass(cls, k.base)), None)


def describe(cls: type[Component]) -> str:
    """``source 'x'``: how messages name a component."""
    return f"{kind(cls.kind).label} {cls.name!r}"


_NAME = re.compile(r"^[a-z0-9][a-z0-9_.\-]*$")
_LICENSE = re.compile(r"^[a-z0-9][a-z0-9.\-]*$")
_LANGUAGE = re.compile(r"^([a-z]{2,3}|multilingual|code)$")
# Internal plugins of bagel-core, registered like any other (as pytest does with its own).
_INTERNAL = ("bagel_core.builtin",)


class PluginError(Exception):
    """A plugin problem that must stop the command (strict mode, a clash, bad components)."""


class UnknownComponentError(PluginError):
    def __init__(self, kind_name: str, name: str, available: list[str]) -> None:
        import difflib

        listed = ", ".join(available) if available else "none installed"
        # 0.75: one or two letters off in a name of five or more ('slimorka'), not 'nope' -> 'ropes'.
        close = difflib.get_close_matches(name.lower(), available, n=3, cutoff=0.75)
        hint = f" (did you mean {' or '.join(repr(c) for c in close)}?)" if close else ""
        super().__init__(f"unknown {kind(kind_name).label} {name!r}{hint}; available: {listed}")
        self.kind, self.name, self.available = kind_name, name, available


@dataclass
class PluginInfo:
    """One loaded (or failed, or blocked) plugin."""

    name: str
    distribution: str
    version: str
    module: str
    #: Why the plugin could not load: one line, naming the file and line at fault.
    error: str | None = None
    #: The full traceback behind ``error`` (shown by ``list-plugins --json``).
    traceback: str | None = None
    blocked: bool = False
    #: kind -> names of the components it registered (clashing ones included).
    components: dict[str, list[str]] = field(default_factory=dict)
    #: One message per component it shares a kind and name with another plugin.
    clashes: list[str] = field(default_factory=list)

    def as_dict(self) -> dict[str, Any]:
        return dataclasses.asdict(self)


@dataclass(frozen=True)
class ComponentInfo:
    """A registered component class and the plugin that provides it."""

    cls: type[Component]
    plugin: PluginInfo

    @property
    def name(self) -> str:
        return self.cls.name


@dataclass
class Registry:
    plugins: list[PluginInfo]
    #: kind -> name -> component; a clashing name maps to the first plugin's component.
    components: dict[str, dict[str, ComponentInfo]]
    #: One line per plugin error.
    errors: list[str]
    #: The plugin manager, for hooks that are not component registrations (commands).
    manager: pluggy.PluginManager
    #: (kind, name) -> message, for names registered by more than one plugin.
    clashes: dict[tuple[str, str], str] = field(default_factory=dict)
    #: Every registration, in load order, clashing ones included (for listings).
    registered: list[ComponentInfo] = field(default_factory=list)

    def of(self, kind_name: str) -> dict[str, ComponentInfo]:
        return self.components[kind_name]

    def get(self, kind_name: str, name: str) -> ComponentInfo:
        """The component ``name``; a name two plugins registered is an error here, when used."""
        if (kind_name, name) in self.clashes:
            raise PluginError(self.clashes[kind_name, name])
        try:
            return self.components[kind_name][name]
        except KeyError:
            raise UnknownComponentError(kind_name, name, sorted(self.components[kind_name])) from None


# --- loading ---------------------------------------------------------------------------------


def load_plugins(strict: bool | None = None, extra: Iterable[tuple[str, object]] = ()) -> Registry:
    """Load every installed plugin, plus ``extra`` ``(name, module_or_object)`` plugins registered
    in-process (tests, :mod:`bagel_core.testing`). An installed plugin of the same name or
    module as an extra one is replaced by it, so a plugin under test is not registered twice.
    What plugins print while they load goes to stderr (stdout is for commands' output), and a
    plugin calling ``sys.exit()`` while it loads is a load error of that plugin."""
    with stdout_to_stderr():
        return _load_plugins(strict, extra)


def _load_plugins(strict: bool | None, extra: Iterable[tuple[str, object]]) -> Registry:
    strict = strict_from_env() if strict is None else strict
    extra = list(extra)
    disabled = {p.strip() for p in os.environ.get(DISABLE_ENV, "").split(",") if p.strip()}
    replaced = {name for name, _ in extra} | {getattr(obj, "__name__", None) for _, obj in extra}
    pm = pluggy.PluginManager(hookspecs.PROJECT)
    pm.add_hookspecs(hookspecs)
    plugins: list[PluginInfo] = []
    errors: list[str] = []

    def fail(info: PluginInfo, message: str, trace: str | None = None) -> None:
        info.error, info.traceback = message, trace
        errors.append(f"{info.name} ({info.distribution}): {message}")
        if strict:
            raise PluginError(f"plugin {info.name!r} from {info.distribution}: {message}")

    def add(name: str, obj: object, info: PluginInfo) -> None:
        try:
            pm.register(obj, name=name)
        except Exception as exc:  # pluggy rejects bad hook signatures here
            fail(info, f"{type(exc).__name__}: {exc}")
            return
        # What pluggy's check_pending() finds, reported per plugin instead of for all at once.
        unknown = [hc.name for hc in pm.get_hookcallers(obj) or () if hc.spec is None]
        if unknown:
            pm.unregister(obj)
            hooks = ", ".join([k.hook for k in KINDS] + ["register_commands"])
            fail(info, f"unknown hook(s) {', '.join(sorted(set(unknown)))}; bagel hooks are {hooks}")

    for module in _INTERNAL:
        info = PluginInfo(name="bagel-core", distribution="bagel-core", version=core_version(), module=module)
        plugins.append(info)
        add(info.name, __import__(module, fromlist=["_"]), info)

    for ep in sorted(md.entry_points(group=ENTRY_POINT_GROUP), key=lambda e: e.name):
        if ep.name in replaced or ep.module in replaced:
            continue
        dist, version = _dist_of(ep)
        info = PluginInfo(name=ep.name, distribution=dist, version=version, module=ep.value)
        plugins.append(info)
        if ep.name in disabled:
            info.blocked = True
            continue
        try:
            with contained(f"plugin {ep.name!r}"):
                obj = ep.load()
        except PluginExit as exc:
            fail(info, str(exc))
            continue
        except Exception as exc:
            fail(info, error_line(exc), traceback.format_exc())
            continue
        add(ep.name, obj, info)

    for name, obj in extra:
        info = PluginInfo(name=name, distribution=name, version="0", module=getattr(obj, "__name__", repr(obj)))
        plugins.append(info)
        add(name, obj, info)

    registry = Registry(plugins=plugins, components={k.name: {} for k in KINDS}, errors=errors, manager=pm)
    _collect(registry, fail)
    if strict and registry.clashes:
        raise PluginError("\n".join(registry.clashes.values()))
    return registry


def _collect(registry: Registry, fail) -> None:
    by_name = {p.name: p for p in registry.plugins}
    providers: dict[tuple[Kind, str], list[PluginInfo]] = {}
    for k in KINDS:
        for impl in getattr(registry.manager.hook, k.hook).get_hookimpls():
            info = by_name[impl.plugin_name]
            if info.error:
                continue
            pending: list[Any] = []  # what the plugin registered, unchecked until validate_component
            try:
                with contained(f"plugin {info.name!r}"):
                    impl.function(register=pending.append)
            except PluginExit as exc:
                fail(info, f"{k.hook} failed: {exc}")
                continue
            except Exception as exc:
                fail(info, f"{k.hook} failed: {error_line(exc)}", traceback.format_exc())
                continue
            try:
                for cls in pending:
                    validate_component(k, cls)
            except PluginError as exc:  # the class at fault is where to look, not this module
                fail(info, f"{k.hook} failed: {exc}{_defined_at(cls)}")
                continue
            for cls in pending:
                info.components.setdefault(k.name, []).append(cls.name)
                component = ComponentInfo(cls=cls, plugin=info)
                registry.registered.append(component)
                registry.components[k.name].setdefault(cls.name, component)
                providers.setdefault((k, cls.name), []).append(info)
    for (k, name), infos in providers.items():
        if len(infos) > 1:
            times = "twice" if len(infos) == 2 else f"{len(infos)} times"
            by = " and by ".join(f"{i.distribution} (plugin {i.name})" for i in infos)
            message = f"{k.label} {name!r} is registered {times}: by {by}; uninstall one or block it with {DISABLE_ENV}"
            registry.clashes[k.name, name] = message
            for info in {id(i): i for i in infos}.values():
                info.clashes.append(message)


def validate_component(k: Kind, cls: Any) -> None:
    """Raise :class:`PluginError` naming what ``cls`` lacks to be a component of kind ``k``."""
    base = k.base
    if not (isinstance(cls, type) and issubclass(cls, base)):
        raise PluginError(f"{cls!r} is not a subclass of {base.__module__}.{base.__name__}")
    name = getattr(cls, "name", None)
    if not isinstance(name, str) or not _NAME.match(name):
        raise PluginError(f"{cls.__name__}.name must match {_NAME.pattern}, got {name!r}")
    if not isinstance(getattr(cls, "description", None), str):
        raise PluginError(f"{cls.__name__} ({name}) needs a one-line description")
    if not dataclasses.is_dataclass(cls.Options):
        raise PluginError(f"{cls.__name__}.Options must be a dataclass")
    if issubclass(cls, Loader):
        if not isinstance(cls.priority, int):
            raise PluginError(f"{cls.__name__}.priority must be an int")
        if not all(isinstance(d, str) for d in cls.dataset_ids):
            raise PluginError(f"{cls.__name__}.dataset_ids must be strings")
        if not isinstance(cls.license, str) or not _LICENSE.match(cls.license):
            raise PluginError(
                f"{cls.__name__}.license must be a Hugging Face licence id like 'apache-2.0', 'other' or 'unknown', got {cls.license!r}"
            )
        if not (
            isinstance(cls.languages, tuple)
            and cls.languages
            and all(isinstance(x, str) and _LANGUAGE.match(x) for x in cls.languages)
        ):
            raise PluginError(
                f"{cls.__name__}.languages must be a non-empty tuple of language codes like ('en',) or ('multilingual',), got {cls.languages!r}"
            )
        for attr in ("terms", "citation", "content_warning"):
            if not isinstance(getattr(cls, attr), (str, type(None))):
                raise PluginError(f"{cls.__name__}.{attr} must be a string or None")
    if issubclass(cls, PromptFormat) and not any(
        f.name == "system_prompt_probability" for f in dataclasses.fields(cls.Options)
    ):
        raise PluginError(f"{cls.__name__}.Options must extend PromptFormat.Options")


def error_line(exc: BaseException) -> str:
    """``Type: message (file:line)``: the exception and the innermost frame outside the import
    machinery, which for an import error is the plugin's own line that failed."""
    where = None
    if isinstance(exc, SyntaxError) and exc.filename:
        where = f"{exc.filename}:{exc.lineno}"
    else:
        frames = [f for f in traceback.extract_tb(exc.__traceback__) if not _machinery(f.filename)]
        if frames:
            where = f"{frames[-1].filename}:{frames[-1].lineno}"
    text = f"{type(exc).__name__}: {exc}".splitlines()[0]
    return f"{text} ({where})" if where else text


def _defined_at(cls: Any) -> str:
    """`` (file:line)`` of a class's definition, or nothing when that is unknown."""
    try:
        return f" ({inspect.getsourcefile(cls)}:{inspect.getsourcelines(cls)[1]})"
    except (TypeError, OSError):
        return ""


def _machinery(filename: str) -> bool:
    return filename.startswith("<frozen ") or os.sep + "importlib" + os.sep in filename or filename == __file__


def _dist_of(ep: md.EntryPoint) -> tuple[str, str]:
    dist = getattr(ep, "dist", None)
    if dist is None:
        return ("unknown", "unknown")
    return (dist.metadata["Name"], dist.version)


def core_version() -> str:
    try:
        return md.version("bagel-core")
    except md.PackageNotFoundError:
        return "0+unknown"


def strict_from_env() -> bool:
    return os.environ.get(STRICT_ENV, "").strip().lower() in {"1", "true", "yes", "on"}


# --- the registry of this process ------------------------------------------------------------

_CURRENT: Registry | None = None


def current(strict: bool | None = None) -> Registry:
    """The registry of this process, loaded on first use (``strict`` applies to that load)."""
    global _CURRENT
    if _CURRENT is None:
        _CURRENT = load_plugins(strict=strict)
    return _CURRENT


def use(registry: Registry | None) -> None:
    """Make ``registry`` this process's registry (``None``: load again on next use)."""
    global _CURRENT
    _CURRENT = registry
