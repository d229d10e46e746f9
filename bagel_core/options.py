"""The one options layer: dataclass annotations are the contract, checked once, up front.

Every setting bagel reads from a user (a recipe's ``[run]`` table and component tables,
``bagel run -o KIND.NAME.KEY=VALUE``, ``bagel preview -o KEY=VALUE``, trainer flags) goes
through :func:`build`, which checks each value against its field's annotation before any data is
read:

- ``bool``, ``int``, ``float`` (an int is accepted), ``str``, ``pathlib.Path`` (from a string);
- ``Literal["a", "b"]``: one of the choices;
- ``Optional[X]``: ``X``, or ``"none"`` in TOML (which has no null) / ``None`` in Python;
- ``tuple[X, ...]`` / ``list[X]``: a list (a single string is not taken as a list of chars);
- ``Union[A, B]``: any of them;
- bounds: ``Annotated[float, Range(0, 1)]`` (``Probability`` is that), or
  ``field(default=..., metadata={"min": 0, "max": 1})``; NaN is never a number here, and an
  infinity never satisfies a bound;
- secrets: ``Annotated[str, Secret()]`` (and any option named like ``api_key``, ``token``,
  ``secret``, ``password``): the value is used, but never written into the manifest, the
  dataset card, the report, logs or error messages (:func:`redact`).

A problem raises :class:`ConfigError` with one line naming the component, the key, the value
and what is allowed.
"""

from __future__ import annotations

import dataclasses
import math
import re
import types
import typing
from dataclasses import dataclass
from pathlib import Path
from typing import Annotated, Any, Literal, Union

#: ``Optional[X]``/``Union[A, B]`` and ``X | None``/``A | B`` (PEP 604) are different origins before 3.14.
_UNIONS = (Union, types.UnionType)

#: How a recipe writes "no value" for an ``Optional`` field (TOML has no null).
NONE = "none"


class ConfigError(ValueError):
    """A setting is wrong; the message names where, the key, the value and what is allowed."""


@dataclass(frozen=True)
class Range:
    """Bounds of a number, as ``Annotated`` metadata: ``Annotated[int, Range(min=1)]``."""

    min: float | None = None
    max: float | None = None


#: A probability: a number from 0 to 1.
Probability = Annotated[float, Range(0.0, 1.0)]


@dataclass(frozen=True)
class Secret:
    """Marks an option as a secret, as ``Annotated`` metadata: ``api_key: Annotated[str,
    Secret()] = ""``. Its value reaches the component, but every published or printed copy of
    the options shows :data:`REDACTED` instead (see :func:`redact`)."""


#: What a secret's value is replaced by wherever options are written or printed.
REDACTED = "<redacted>"

#: Names taken as secrets without the marker: a whole ``_``-separated part of the name is one
#: of these words (``api_key``, ``hf_token``, ``db_password``; not ``max_tokens`` or ``tokenizer``).
_SECRET_NAME = re.compile(
    r"(?:^|_)(?:api_?key|key|token|secret|password|passwd|passphrase|credentials?)(?:_|$)", re.IGNORECASE
)


def is_secret(name: str, hint: Any = None) -> bool:
    """Whether the option ``name`` (annotated ``hint``, if known) holds a secret."""
    if _SECRET_NAME.search(name):
        return True
    return typing.get_origin(hint) is Annotated and any(isinstance(m, Secret) for m in hint.__metadata__)


def redact(table: dict[str, Any], options_cls: type | None = None) -> dict[str, Any]:
    """``table`` (option name -> value) with the values of secrets replaced by :data:`REDACTED`:
    those named like secrets, and those ``options_cls`` (a dataclass) marks ``Secret()``."""
    hints = typing.get_type_hints(options_cls, include_extras=True) if options_cls is not None else {}
    return {k: REDACTED if v is not None and is_secret(k, hints.get(k)) else v for k, v in table.items()}


def _describe(hint: Any) -> str:
    origin, args = typing.get_origin(hint), typing.get_args(hint)
    if origin is Annotated:
        return _describe(args[0])
    if origin is Literal:
        return "one of " + ", ".join(repr(a) for a in args)
    if origin in _UNIONS:
        values = [a for a in args if a is not type(None)]
        if all(typing.get_origin(a) is Literal for a in values):  # Literal["x"] | Literal["y", "z"]
            values = [Literal[tuple(c for a in values for c in typing.get_args(a))]]
        parts = [_describe(a) for a in values]
        text = " or ".join(parts)
        return text + (f' or "{NONE}"' if type(None) in args else "")
    if origin in (list, tuple):
        inner = args[0] if args else Any
        return f"a list of {_describe(inner)}"
    if hint is float:
        return "a number"
    if hint is Path:
        return "a path (not empty)"
    if hint is Any:
        return "any value"
    return getattr(hint, "__name__", str(hint))


class _Mismatch(Exception):
    pass


class _NotFinite(Exception):
    pass


class _OutOfRange(Exception):
    def __init__(self, bound: str, limit: float) -> None:
        self.bound, self.limit = bound, limit


def _check_range(value: Any, low: float | None, high: float | None) -> None:
    # nan compares false with everything, so it would pass any bound: a bounded number is finite.
    if isinstance(value, float) and not math.isfinite(value) and (low is not None or high is not None):
        raise _NotFinite
    if isinstance(value, (int, float)) and not isinstance(value, bool):
        if low is not None and value < low:
            raise _OutOfRange("below the minimum", low)
        if high is not None and value > high:
            raise _OutOfRange("above the maximum", high)


def _coerce(hint: Any, value: Any) -> Any:
    """``value`` as ``hint`` wants it, or :class:`_Mismatch`."""
    if hint is Any:
        return value
    origin, args = typing.get_origin(hint), typing.get_args(hint)
    if origin is Annotated:
        result = _coerce(args[0], value)
        for bound in (m for m in hint.__metadata__ if isinstance(m, Range)):
            _check_range(result, bound.min, bound.max)
        return result
    if origin is Literal:
        if any(value == a and type(value) is type(a) for a in args):
            return value
        raise _Mismatch
    if origin in _UNIONS:
        if value is None or (
            isinstance(value, str)
            and value.strip().lower() == NONE
            and type(None) in args
            and not any(_accepts_none_string(a) for a in args)
        ):
            if type(None) in args:
                return None
            raise _Mismatch
        for arg in args:
            if arg is type(None):
                continue
            try:
                return _coerce(arg, value)
            except _Mismatch:
                continue
        raise _Mismatch
    if origin in (list, tuple):
        if isinstance(value, (str, bytes, dict)) or not isinstance(value, (list, tuple)):
            raise _Mismatch
        inner = args[0] if args else Any
        items = [_coerce(inner, v) for v in value]
        return tuple(items) if origin is tuple else items
    if origin is dict:
        if not isinstance(value, dict):
            raise _Mismatch
        keys, values = args if args else (Any, Any)
        return {_coerce(keys, k): _coerce(values, v) for k, v in value.items()}
    if hint is bool:
        if isinstance(value, bool):
            return value
        raise _Mismatch
    if hint is int:
        if isinstance(value, int) and not isinstance(value, bool):
            return value
        raise _Mismatch
    if hint is float:
        if isinstance(value, (int, float)) and not isinstance(value, bool):
            if isinstance(value, float) and math.isnan(value):  # TOML's nan: never a setting
                raise _NotFinite
            return float(value) if isinstance(value, int) else value
        raise _Mismatch
    if hint is str:
        if isinstance(value, str):
            return value
        raise _Mismatch
    if hint is Path:
        # Path("") is the current folder: an empty string (an unset shell variable) is no path.
        if isinstance(value, Path) or (isinstance(value, str) and value.strip()):
            return Path(value)
        raise _Mismatch
    if isinstance(hint, type):
        if isinstance(value, hint):
            return value
        raise _Mismatch
    return value


def _accepts_none_string(hint: Any) -> bool:
    """Whether ``"none"`` is a real value of ``hint`` (a ``Literal`` choice), not "no value"."""
    return typing.get_origin(hint) is Literal and NONE in typing.get_args(hint)


def check_value(where: str, key: str, hint: Any, value: Any, metadata: Any = None) -> Any:
    """``value`` checked against ``hint`` (and ``metadata``'s ``min``/``max``), coerced."""
    metadata = metadata or {}
    shown = REDACTED if is_secret(key, hint) else repr(value)  # an error message is a log too
    try:
        result = _coerce(hint, value)
        _check_range(result, metadata.get("min"), metadata.get("max"))
    except _Mismatch:
        raise ConfigError(f"{where}: {key} = {shown} is not allowed; expected {_describe(hint)}") from None
    except _NotFinite:
        raise ConfigError(f"{where}: {key} = {shown} is not allowed; expected a finite number") from None
    except _OutOfRange as exc:
        raise ConfigError(f"{where}: {key} = {shown} is {exc.bound} {exc.limit}") from None
    return result


def fields_of(options_cls: type) -> dict[str, tuple[dataclasses.Field, Any]]:
    """``{name: (field, resolved annotation)}`` of a dataclass."""
    hints = typing.get_type_hints(options_cls, include_extras=True)
    return {f.name: (f, hints[f.name]) for f in dataclasses.fields(options_cls) if f.init}


def check_table(where: str, options_cls: type, table: dict[str, Any]) -> dict[str, Any]:
    """The values of ``table`` checked against ``options_cls``'s fields (unknown keys fail)."""
    known = fields_of(options_cls)
    unknown = sorted(set(table) - set(known))
    if unknown:
        raise ConfigError(f"{where}: unknown option(s) {unknown}; options are {sorted(known) or 'none'}")
    return {key: check_value(where, key, known[key][1], value, known[key][0].metadata) for key, value in table.items()}


def build(where: str, options_cls: type, table: dict[str, Any]) -> Any:
    """An ``options_cls`` instance from ``table``, every value checked (see the module doc)."""
    values = check_table(where, options_cls, table)
    try:
        return options_cls(**values)
    except TypeError as exc:  # a required field without a default
        raise ConfigError(f"{where}: {exc}") from None


def parse_value(text: str) -> Any:
    """A TOML value from the command line (``true``, ``0.15``, ``"x"``, ``[1, 2]``); anything
    that is not TOML is taken as a plain string."""
    import tomllib

    try:
        return tomllib.loads(f"v = {text}")["v"]
    except tomllib.TOMLDecodeError:
        return text


def parse_assignments(pairs: typing.Iterable[str], flag: str = "--option") -> list[tuple[str, Any]]:
    """``KEY=VALUE`` pairs as ``(key, value)``; ``-`` in the last dotted part of a key reads as
    ``_`` (``source.my-src.max-items`` is ``source.my-src.max_items``)."""
    result = []
    for pair in pairs:
        key, sep, value = pair.partition("=")
        if not sep or not key.strip():
            raise ConfigError(f"{flag}: expected KEY=VALUE, got {pair!r}")
        head, dot, last = key.strip().rpartition(".")
        result.append((head + dot + last.replace("-", "_"), parse_value(value.strip())))
    return result
