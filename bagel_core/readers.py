"""The plugin author's toolkit for reading upstream data: bad data is counted, bugs are not.

Three things every loader needs, so that every plugin counts bad input the same way:

- **Field readers** (:func:`field`, :func:`text`, :func:`optional_text`, :func:`texts`,
  :func:`integer`, :func:`number`, :func:`items`, :func:`turns`): a missing *or null* field
  raises :class:`RowError` ``missing field 'x'``, a value of the wrong type ``wrong type``, so
  the row is counted as rejected under the same wording in every plugin.
- **Per-line readers** (:func:`json_lines`, :func:`parse_json_lines`, :func:`json_rows`,
  :func:`csv_rows`): a line that is not valid UTF-8 or not JSON (a truncated last line
  included) is counted as rejected, with its file and line as the example, and skipped; an
  empty file is a :class:`MalformedFile` error naming it.
- **Row guard**: :meth:`LoadContext.convert_row <bagel_core.LoadContext.convert_row>` and
  :meth:`LoadContext.guard <bagel_core.LoadContext.guard>` count :data:`DATA_ERRORS` as
  rejections and turn any other exception into a :class:`RowFailure` that stops the run naming
  the component, the row and the exception: an ``AttributeError`` in a plugin is a bug to fix,
  not a malformed row to hide in a counter.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Iterator, Mapping
from pathlib import Path
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from .context import LoadContext
    from .records import Turn


class RowError(ValueError):
    """An upstream row is bad data: counted as rejected under :attr:`reason` and skipped.

    Raise it from ``convert`` (or inside ``ctx.guard``) for any problem of the data itself::

        if row["label"] not in ("A", "B"):
            raise RowError("bad value", f"label {row['label']!r} is not A or B")
    """

    def __init__(self, reason: str, detail: str = "") -> None:
        super().__init__(detail or reason)
        #: The stable reason the row is counted under in the manifest.
        self.reason = reason


class MissingField(RowError, KeyError):
    """A required field is absent or null. Also a ``KeyError``, for code that catches that."""

    def __init__(self, key: str) -> None:
        RowError.__init__(self, f"missing field {key!r}")
        self.key = key

    def __str__(self) -> str:
        return self.reason


class MalformedFile(Exception):
    """An upstream file is there but can not be read as what it claims to be (empty, corrupt,
    no usable column). Never "not available": the file is present, its content is wrong."""

    def __init__(self, path: str | Path, problem: str) -> None:
        super().__init__(f"{path}: present but malformed: {problem}")
        self.path = str(path)
        self.problem = problem


class RowFailure(Exception):
    """A plugin raised something that is not bad data while handling one row: a bug."""

    def __init__(self, component: str, where: str, exc: BaseException) -> None:
        super().__init__(
            f"failed on {where}: {type(exc).__name__}: {exc} (a bug in the plugin, not bad "
            f"data: bad data raises bagel_core.RowError; --debug or BAGEL_DEBUG=1 shows the traceback)"
        )
        self.component = component
        self.where = where


#: Exceptions that mean "this row is bad data". ``KeyError`` is a row lookup of an absent field
#: and ``ValueError`` a value that does not parse (``int("x")``, ``json.loads``); both are what
#: upstream data makes Python raise. ``TypeError``, ``AttributeError`` and the rest are bugs.
DATA_ERRORS: tuple[type[BaseException], ...] = (RowError, KeyError, IndexError, ValueError)


def reason_of(exc: BaseException) -> str:
    """The stable reason a row that raised one of :data:`DATA_ERRORS` is counted under."""
    if isinstance(exc, RowError):
        return exc.reason
    if isinstance(exc, KeyError):
        return f"missing field {exc.args[0]!r}" if exc.args else "missing field"
    if isinstance(exc, UnicodeDecodeError):
        return "invalid UTF-8"
    if isinstance(exc, UnicodeEncodeError) and exc.reason == "surrogates not allowed":
        return "lone surrogate"  # a JSON "\ud800" escape: half of a UTF-16 pair, in no UTF-8 text
    if isinstance(exc, json.JSONDecodeError):
        return "invalid JSON"
    return "bad value"


def excerpt(value: Any, limit: int = 120) -> str:
    """A short one-line excerpt of a row, for the manifest's rejection examples."""
    text = value if isinstance(value, str) else repr(value)
    text = " ".join(text.split())
    return text if len(text) <= limit else text[: limit - 3] + "..."


# -- field readers --------------------------------------------------------------------------


def field(row: Mapping[str, Any], key: str) -> Any:
    """``row[key]``; a missing or null field raises ``missing field 'key'``."""
    if not isinstance(row, Mapping):
        raise RowError("wrong type", f"row is {type(row).__name__}, not an object")
    value = row.get(key)
    if value is None:
        raise MissingField(key)
    return value


def text(row: Mapping[str, Any], key: str) -> str:
    """``row[key]`` when it is a string (empty allowed; validation rejects empty texts)."""
    value = field(row, key)
    if not isinstance(value, str):
        raise RowError("wrong type", f"field {key!r} is {type(value).__name__}, not text")
    return value


def optional_text(row: Mapping[str, Any], key: str) -> str | None:
    """``row[key]`` as text, or ``None`` when it is missing or null."""
    if isinstance(row, Mapping) and row.get(key) is None:
        return None
    return text(row, key)


def texts(row: Mapping[str, Any], key: str) -> list[str]:
    """``row[key]`` when it is a list of strings."""
    value = field(row, key)
    if not isinstance(value, (list, tuple)) or not all(isinstance(v, str) for v in value):
        raise RowError("wrong type", f"field {key!r} is not a list of text")
    return list(value)


def integer(row: Mapping[str, Any], key: str) -> int:
    """``row[key]`` when it is an int (a bool is not)."""
    value = field(row, key)
    if isinstance(value, bool) or not isinstance(value, int):
        raise RowError("wrong type", f"field {key!r} is {type(value).__name__}, not an integer")
    return value


def number(row: Mapping[str, Any], key: str) -> float:
    """``row[key]`` when it is an int or a float (a bool is not)."""
    value = field(row, key)
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        raise RowError("wrong type", f"field {key!r} is {type(value).__name__}, not a number")
    return value


def items(row: Mapping[str, Any], key: str) -> list[Any]:
    """``row[key]`` when it is a list (of anything)."""
    value = field(row, key)
    if not isinstance(value, (list, tuple)):
        raise RowError("wrong type", f"field {key!r} is {type(value).__name__}, not a list")
    return list(value)


def turns(row: Mapping[str, Any], key: str = "conversations") -> list[Turn]:
    """ShareGPT turns ``[{"from": ..., "value": ...}]`` of ``row[key]``, other keys (``weight``)
    dropped. Roles and texts are checked by the engine's record validation."""
    return [{"from": field(t, "from"), "value": t.get("value")} for t in items(row, key)]


# -- per-line readers -----------------------------------------------------------------------


def parse_json_lines(lines: Iterable[str | bytes], ctx: LoadContext, where: str = "") -> Iterator[Any]:
    """The values of JSON-lines text, one per non-blank line.

    A line that is not UTF-8 or not JSON is counted as rejected (``invalid UTF-8``,
    ``invalid JSON``, ``truncated line`` for a last line cut short, ``nested too deeply``,
    ``lone surrogate`` for a ``\\ud800`` escape that is half of a character) with ``where`` and
    its line number as the example, and skipped. A byte order mark opening the first line is
    not part of it. Each value's position is kept in ``ctx`` so a plugin bug on it is reported
    with its file and line.
    """
    previous: tuple[int, str | bytes] | None = None
    number_ = 0
    for number_, line in enumerate(lines, 1):
        if number_ == 1:
            line = line.removeprefix(b"\xef\xbb\xbf" if isinstance(line, bytes) else "\ufeff")  # type: ignore[arg-type]
        if previous is not None:
            yield from _parse_line(*previous, ctx, where, last=False)
        previous = (number_, line)
    if previous is not None:
        yield from _parse_line(*previous, ctx, where, last=True)


def _parse_line(number_: int, line: str | bytes, ctx: LoadContext, where: str, last: bool) -> Iterator[Any]:
    position = f"{where} line {number_}" if where else f"line {number_}"
    if isinstance(line, bytes):
        raw = line
        try:
            line = raw.decode("utf-8")
        except UnicodeDecodeError:
            ctx.reject("invalid UTF-8", at=position, row=raw[:120].decode("utf-8", "replace"))
            return
    if not line.strip():
        return
    try:
        value = json.loads(line)
    except json.JSONDecodeError:
        truncated = last and not line.endswith("\n")
        ctx.reject("truncated line" if truncated else "invalid JSON", at=position, row=line)
        return
    except RecursionError:
        ctx.reject("nested too deeply", at=position, row=line[:120])
        return
    if ("\\ud" in line or "\\uD" in line) and _lone_surrogate(value):
        ctx.reject("lone surrogate", at=position, row=line)
        return
    ctx.at(position)
    yield value


def _lone_surrogate(value: Any) -> bool:
    """Whether a string in ``value`` holds half of a UTF-16 pair (JSON allows the escape; no
    UTF-8 text can hold it, so it would fail where the text is written or hashed)."""
    try:
        json.dumps(value, ensure_ascii=False).encode("utf-8")
    except UnicodeEncodeError:
        return True
    return False


def json_lines(path: str | Path, ctx: LoadContext) -> Iterator[Any]:
    """The rows of a JSON-lines file (see :func:`parse_json_lines`); an empty file is a
    :class:`MalformedFile` error."""
    path = Path(path)
    with path.open("rb") as fh:
        if not fh.read(1 << 16).strip(b" \t\r\n\xef\xbb\xbf") and not fh.read(1):
            raise MalformedFile(path, "the file is empty")
        fh.seek(0)
        yield from parse_json_lines(fh, ctx, str(path))


def json_rows(path: str | Path, ctx: LoadContext) -> Iterator[Any]:
    """The rows of a ``.json`` file: the elements of a JSON array (streamed, bounded memory),
    or JSON lines (many ``.json`` files are). A broken array is a :class:`MalformedFile`."""
    from .json_arrays import is_json_array, iter_json_array

    path = Path(path)
    if not is_json_array(path):
        yield from json_lines(path, ctx)
        return
    with path.open(encoding="utf-8") as fh:
        try:
            for index, value in enumerate(iter_json_array(fh)):
                ctx.at(f"{path} element {index}")
                yield value
        except (ValueError, UnicodeDecodeError) as exc:
            raise MalformedFile(path, f"not a valid JSON array ({exc})") from None


def csv_rows(path: str | Path, ctx: LoadContext, **reader_options: Any) -> Iterator[dict[str, str]]:
    """The rows of a CSV file with a header, as dicts of text (``csv.DictReader``). A line that
    is not UTF-8 is counted as rejected (``invalid UTF-8``, with its file and line) and left
    out; an empty file is a :class:`MalformedFile` error."""
    import csv

    path = Path(path)
    decoded: list[int] = []  # physical line number of each line handed to the csv module

    def lines() -> Iterator[str]:
        with path.open("rb") as fh:
            for number_, raw in enumerate(fh, 1):
                try:
                    line = raw.decode("utf-8-sig" if number_ == 1 else "utf-8")
                except UnicodeDecodeError:
                    ctx.reject("invalid UTF-8", at=f"{path} line {number_}", row=raw[:120].decode("utf-8", "replace"))
                    continue
                decoded.append(number_)
                yield line

    reader = csv.DictReader(lines(), **reader_options)
    if reader.fieldnames is None:
        raise MalformedFile(path, "the file is empty")
    for row in reader:
        ctx.at(f"{path} line {decoded[reader.line_num - 1]}")
        yield row
