"""A local JSON-lines file with bad lines (not UTF-8, not JSON, cut short) is read by
``datasets`` through a copy without them, each counted as a rejected row: ``datasets`` would
stop at the first bad line."""

from __future__ import annotations

import hashlib
import json
import os
from collections.abc import Callable
from pathlib import Path
from typing import Any

from .readers import MalformedFile, json_lines
from .storage import temporary_path


class _Recorder:
    """Stands in for a ``LoadContext`` while :func:`without_bad_lines` reads a file: keeps the
    lines the reader rejects."""

    def __init__(self) -> None:
        self.rejected: list[dict[str, Any]] = []

    def reject(self, reason: str, n: int = 1, *, at: str | None = None, row: Any = None, detail: str = "") -> None:
        self.rejected.append({"reason": reason, "at": at or "", "row": row if isinstance(row, str) else repr(row)})

    def at(self, position: str) -> None:
        pass


def without_bad_lines(path: Path, cache_dir: Path, reject: Callable[..., None] | None = None) -> Path:
    """``path`` (JSON lines) without the lines that are not UTF-8 or not JSON, made once per
    (path, size, mtime); each such line is reported to ``reject(reason, at=..., row=...)``
    every time, or, with no ``reject``, raises :class:`~bagel_core.MalformedFile`. The path
    itself when every line is good."""
    stat = path.stat()
    key = hashlib.blake2b(
        f"{path.resolve()}\0{stat.st_size}\0{stat.st_mtime_ns}\0clean".encode(), digest_size=12
    ).hexdigest()
    target = cache_dir / f"{path.stem}-{key}.clean.jsonl"
    report = target.with_suffix(".rejected.json")
    if not report.exists():
        cache_dir.mkdir(parents=True, exist_ok=True)
        recorder = _Recorder()
        tmp = temporary_path(target)
        try:
            with open(tmp, "w", encoding="utf-8") as dst:
                for value in json_lines(path, recorder):
                    dst.write(json.dumps(value, ensure_ascii=False))
                    dst.write("\n")
            if recorder.rejected:
                os.replace(tmp, target)
        finally:
            tmp.unlink(missing_ok=True)
        tmp = temporary_path(report)
        tmp.write_text(json.dumps(recorder.rejected))
        os.replace(tmp, report)
    rejected = json.loads(report.read_text())
    if not rejected:
        return path
    for line in rejected:
        if reject is None:
            raise MalformedFile(path, f"{line['reason']} at {line['at']}")
        reject(line["reason"], at=line["at"], row=line["row"])
    return target
