"""Reading upstream files that hold one big JSON array with bounded memory.

``datasets`` parses a JSON-lines file in blocks, but loads a file holding one JSON array
whole: a 600 MB array costs several GB. Several upstream datasets ship such files
(MathInstruct, airoboros), so local ones are rewritten once as JSON lines, element by element,
and ``datasets`` reads that copy (a JSON-lines file with bad lines: :mod:`bagel_core.clean_lines`).
"""

from __future__ import annotations

import hashlib
import json
import os
from collections.abc import Iterator
from pathlib import Path
from typing import IO, Any

from .storage import temporary_path

_CHUNK = 1 << 20
_SPACE = " \t\r\n"


def is_json_array(path: Path) -> bool:
    """True when ``path`` is a ``.json`` file whose first non-space character is ``[``."""
    if path.suffix != ".json":
        return False
    with open(path, "rb") as fh:
        head = fh.read(4096).lstrip(b" \t\r\n\xef\xbb\xbf")
    return head[:1] == b"["


class ExtraData(ValueError):
    """Something follows the array (a second array, junk): the file holds more than one JSON
    value. ``line`` and ``column`` (from 1) say where it starts."""

    def __init__(self, line: int, column: int, excerpt: str) -> None:
        super().__init__(f"more than one JSON value: {excerpt!r} after the array, at line {line} column {column}")
        self.line, self.column = line, column


def iter_json_array(fh: IO[str], chunk: int = _CHUNK) -> Iterator[Any]:
    """The elements of the JSON array in ``fh``, one at a time, holding about ``chunk`` chars.
    Anything but white space after the array raises :class:`ExtraData` (once every element
    was yielded); an element nested too deeply to parse raises ``ValueError``."""
    decoder = json.JSONDecoder()
    buf, pos, eof = fh.read(chunk).lstrip("\ufeff"), 0, False
    # Lines and characters of the file before buf, for ExtraData's position.
    lines_before, line_start = 0, 0  # line_start: offset of the current line's start, from buf's start

    def fill() -> None:
        nonlocal buf, pos, eof, lines_before, line_start
        more = fh.read(chunk)
        eof = not more
        dropped = buf[:pos]
        newlines = dropped.count("\n")
        lines_before += newlines
        line_start = (dropped.rindex("\n") + 1 if newlines else line_start) - pos
        buf, pos = buf[pos:] + more, 0

    def skip(chars: str) -> None:
        nonlocal pos
        while True:
            while pos < len(buf) and buf[pos] in chars:
                pos += 1
            if pos < len(buf) or eof:
                return
            fill()

    skip(_SPACE)
    if buf[pos : pos + 1] != "[":
        raise ValueError("not a JSON array")
    pos += 1
    while True:
        skip(_SPACE + ",")
        if pos >= len(buf):
            raise ValueError("unterminated JSON array")
        if buf[pos] == "]":
            pos += 1
            skip(_SPACE)
            if pos < len(buf):
                line = lines_before + buf.count("\n", 0, pos) + 1
                start = buf.rfind("\n", 0, pos) + 1 if "\n" in buf[:pos] else line_start
                raise ExtraData(line, pos - start + 1, buf[pos : pos + 20])
            return
        try:
            value, end = decoder.raw_decode(buf, pos)
        except json.JSONDecodeError:
            if eof:
                raise
            fill()
            continue
        except RecursionError:
            raise ValueError(
                f"an element nested too deeply, at line {lines_before + buf.count(chr(10), 0, pos) + 1}"
            ) from None
        # A value is complete only when "," or "]" follows it: "2" may be the start of "2.5".
        after = end
        while after < len(buf) and buf[after] in _SPACE:
            after += 1
        if after >= len(buf) or buf[after] not in ",]":
            if eof:
                raise ValueError(f"expected ',' or ']' after an array element, at {after}")
            fill()
            continue
        yield value
        pos = end
        if len(buf) - pos < chunk // 2 and not eof:
            fill()


def as_json_lines(path: Path, cache_dir: Path) -> Path:
    """A JSON-lines copy of the JSON array in ``path``, made once per (path, size, mtime)."""
    stat = path.stat()
    key = hashlib.blake2b(f"{path.resolve()}\0{stat.st_size}\0{stat.st_mtime_ns}".encode(), digest_size=12).hexdigest()
    target = cache_dir / f"{path.stem}-{key}.jsonl"
    if target.exists():
        return target
    cache_dir.mkdir(parents=True, exist_ok=True)
    tmp = temporary_path(target)
    try:
        with open(path, encoding="utf-8") as src, open(tmp, "w", encoding="utf-8") as dst:
            for element in iter_json_array(src):
                dst.write(json.dumps(element, ensure_ascii=False))
                dst.write("\n")
        os.replace(tmp, target)
    finally:
        tmp.unlink(missing_ok=True)
    return target
