"""Loading plugins from the ``bagel`` entry-point group into a registry of components.

Each entry point loads in its own ``try``: a plugin that fails to import, or whose hook raises,
is recorded with its error and every command still works. ``BAGEL_DISABLE_PLUGINS=a,b`` blocks
plugins by entry-point name; ``BAGEL_STRICT_PLUGINS=1`` (or ``bagel --strict``) turns any plugin
error into a failure.
"""

from __future__ import annotations

import dataclasses
import importlib.metadata as md
import os
import re
import traceback
from dataclasses import dataclass, field
from typing import Any, Iterable, Optional

import pluggy

from . import hookspecs
from .components import KINDS, Component, Loader, PromptFormat

ENTRY_POINT_GROUP = "bagel"
DISABLE_ENV = "BAGEL_DISABLE_PLUGINS"
STRICT_ENV = "BAGEL_STRICT_PLUGINS"

# hook name -> component kind it registers
HOOK_KINDS = {
    "register_sources": "source",
    "register_dpo_builders": "dpo_builder",
    "register_formats": "format",
    "register_decontaminators": "decontaminator",
    "register_benchmarks": "benchmark",
    "register_trainers": "trainer",
}
_NAME = re.compile(r"^[a-z0-9][a-z0-9_.\-]*$")
# Internal plugins of bagel-core, registered like any other (as pytest does with its own).
_INTERNAL = ("bagel_core.builtin",)


class PluginError(Exception):
    """A plugin problem that must stop the command (strict mode, duplicates, bad components)."""


@dataclass
class PluginInfo:
    """One loaded (or failed, or blocked) plugin."""

    name: str
    distribution: str
    version: str
    module: str
    error: Optional[str] = None
    blocked: bool = False
    components: dict[str, list[str]] = field(default_factory=dict)

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
    components: dict[str, dict[str, ComponentInfo]]
    errors: list[str]
    #: Components registered under a name another plugin already took.
    conflicts: list[str] = field(default_factory=list)

    def of(self, kind: str) -> dict[str, ComponentInfo]:
        return self.components[kind]

    def get(self, kind: str, name: str) -> ComponentInfo:
        try:
            return self.components[kind][name]
        except KeyError:
            raise UnknownComponentError(kind, name, sorted(self.components[kind])) from None

    def check_conflicts(self) -> None:
        """Fail when two plugins registered the same component name: which one to use is unclear."""
        if self.conflicts:
            raise PluginError("\n".join(self.conflicts))


class UnknownComponentError(PluginError):
    def __init__(self, kind: str, name: str, available: list[str]) -> None:
        label = kind.replace("_", " ")
        listed = ", ".join(available) if available else "none installed"
        super().__init__(f"unknown {label} {name!r}; available: {listed}")
        self.kind, self.name, self.available = kind, name, available


def _validate_component(kind: str, cls: Any) -> None:
    base = KINDS[kind]
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
    if issubclass(cls, PromptFormat) and not any(
        f.name == "system_prompt_probability" for f in dataclasses.fields(cls.Options)
    ):
        raise PluginError(f"{cls.__name__}.Options must extend PromptFormat.Options")


def _dist_of(ep: md.EntryPoint) -> tuple[str, str]:
    dist = getattr(ep, "dist", None)
    if dist is None:
        return ("unknown", "unknown")
    return (dist.metadata["Name"], dist.version)


def _core_version() -> str:
    try:
        return md.version("bagel-core")
    except md.PackageNotFoundError:
        return "0+unknown"


def _entry_points() -> Iterable[md.EntryPoint]:
    return md.entry_points(group=ENTRY_POINT_GROUP)


def strict_from_env() -> bool:
    return os.environ.get(STRICT_ENV, "").strip().lower() in {"1", "true", "yes", "on"}


def load_plugins(strict: Optional[bool] = None, extra: Iterable[tuple[str, object]] = ()) -> tuple[pluggy.PluginManager, Registry]:
    """Load every plugin and collect their components.

    ``extra`` are ``(name, module_or_object)`` plugins registered in-process (used by tests and
    by :mod:`bagel_core.testing`).
    """
    strict = strict_from_env() if strict is None else strict
    disabled = {p.strip() for p in os.environ.get(DISABLE_ENV, "").split(",") if p.strip()}
    pm = pluggy.PluginManager(hookspecs.PROJECT)
    pm.add_hookspecs(hookspecs)
    plugins: list[PluginInfo] = []
    errors: list[str] = []

    def fail(info: PluginInfo, message: str) -> None:
        info.error = message
        errors.append(f"{info.name} ({info.distribution}): {message.strip().splitlines()[-1]}")
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
            fail(info, f"unknown hook(s) {', '.join(sorted(set(unknown)))}; bagel hooks are {', '.join(sorted(HOOK_KINDS))}, register_commands")

    for module in _INTERNAL:
        info = PluginInfo(name="bagel-core", distribution="bagel-core", version=_core_version(), module=module)
        plugins.append(info)
        add(info.name, __import__(module, fromlist=["_"]), info)

    for ep in sorted(_entry_points(), key=lambda e: e.name):
        dist, version = _dist_of(ep)
        info = PluginInfo(name=ep.name, distribution=dist, version=version, module=ep.value)
        plugins.append(info)
        if ep.name in disabled:
            info.blocked = True
            continue
        try:
            obj = ep.load()
        except Exception:
            fail(info, traceback.format_exc(limit=-3))
            continue
        add(ep.name, obj, info)

    for name, obj in extra:
        info = PluginInfo(name=name, distribution=name, version="0", module=getattr(obj, "__name__", repr(obj)))
        plugins.append(info)
        add(name, obj, info)

    conflicts: list[str] = []
    components = _collect(pm, plugins, fail, conflicts)
    if strict and conflicts:
        raise PluginError("\n".join(conflicts))
    return pm, Registry(plugins=plugins, components=components, errors=errors, conflicts=conflicts)


def _collect(
    pm: pluggy.PluginManager, plugins: list[PluginInfo], fail, conflicts: list[str]
) -> dict[str, dict[str, ComponentInfo]]:
    by_name = {p.name: p for p in plugins}
    components: dict[str, dict[str, ComponentInfo]] = {kind: {} for kind in KINDS}
    for hook_name, kind in HOOK_KINDS.items():
        for impl in getattr(pm.hook, hook_name).get_hookimpls():
            info = by_name[impl.plugin_name]
            if info.error:
                continue
            pending: list[type] = []
            try:
                impl.function(register=pending.append)
                for cls in pending:
                    _validate_component(kind, cls)
            except Exception as exc:
                fail(info, f"{hook_name} failed: {type(exc).__name__}: {exc}")
                continue
            for cls in pending:
                other = components[kind].get(cls.name)
                if other is not None:
                    message = (
                        f"{kind.replace('_', ' ')} {cls.name!r} is registered twice: by "
                        f"{other.plugin.distribution} (plugin {other.plugin.name}) and by "
                        f"{info.distribution} (plugin {info.name}); uninstall one or block it "
                        f"with {DISABLE_ENV}"
                    )
                    conflicts.append(message)
                    info.error = message
                    continue
                components[kind][cls.name] = ComponentInfo(cls=cls, plugin=info)
                info.components.setdefault(kind, []).append(cls.name)
    return components
