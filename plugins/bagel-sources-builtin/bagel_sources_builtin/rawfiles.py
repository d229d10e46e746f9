"""Rows of raw upstream files read without ``datasets`` (single files the reference fetched
directly, and repositories whose loading script ``datasets`` no longer runs)."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any, Iterable, Iterator

from bagel_core import LoadContext


def parse_json_lines(lines: Iterable[str], ctx: LoadContext) -> Iterator[Any]:
    """The rows of JSON-lines text; blank lines are skipped, a line that is not JSON is counted
    as rejected."""
    for line in lines:
        if not line.strip():
            continue
        try:
            yield json.loads(line)
        except json.JSONDecodeError:
            ctx.reject("invalid JSON")


def json_lines(path: Path, ctx: LoadContext) -> Iterator[Any]:
    """The rows of a JSON-lines file (see :func:`parse_json_lines`)."""
    with path.open(encoding="utf-8") as lines:
        yield from parse_json_lines(lines, ctx)
