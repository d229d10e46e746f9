"""Fingerprints and crash-safe files: nothing is ever half-written under its final name."""

from __future__ import annotations

import hashlib
import json
import os
import re
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import pyarrow as pa
import pyarrow.parquet as pq


def fingerprint(*parts: Any) -> str:
    """A short stable hash of JSON-able ``parts``."""
    blob = json.dumps(parts, sort_keys=True, default=str).encode()
    return hashlib.blake2b(blob, digest_size=10).hexdigest()


#: Every temporary bagel writes is named ``.NAME.bagel-PID.tmp``: the marker and the writer's
#: pid let the cleanup tell bagel's own leftovers (of a dead process) from anyone else's files.
_TEMPORARY = re.compile(r"^\..+\.bagel-(\d+)\.tmp$")


def is_temporary(name: str) -> bool:
    """Whether ``name`` is one of bagel's temporaries (see :func:`temporary_path`)."""
    return _TEMPORARY.match(name) is not None


def temporary_path(path: Path) -> Path:
    """Where to write ``path`` before renaming it into place."""
    return path.with_name(f".{path.name}.bagel-{os.getpid()}.tmp")


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


def remove_stale_temporaries(folder: Path, recursive: bool = True) -> int:
    """Delete bagel's temporaries (see :func:`temporary_path`) that dead processes left in
    ``folder`` (and below it with ``recursive``); returns how many. Nothing else is touched,
    so call it only on bagel's own folders."""
    removed = 0
    if not folder.is_dir():
        return removed
    for path in folder.rglob(".*.tmp") if recursive else folder.glob(".*.tmp"):
        match = _TEMPORARY.match(path.name)
        if match is None or not path.is_file():
            continue
        pid = int(match.group(1))
        if pid != os.getpid() and not _alive(pid):
            path.unlink(missing_ok=True)
            removed += 1
    return removed


@contextmanager
def atomic_path(path: Path) -> Iterator[Path]:
    """Yield a temporary path beside ``path``; rename it into place only if the block succeeds."""
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = temporary_path(path)
    try:
        yield tmp
        os.replace(tmp, path)
    except OSError as exc:
        # A full disk while writing: Python names no file (a failed flush), or our hidden
        # temporary, or the source of a copy (shutil names it first): name the file written.
        if exc.filename is None or str(tmp) in (exc.filename, exc.filename2):
            raise OSError(exc.errno, exc.strerror or str(exc), str(path)) from exc
        raise
    finally:
        if tmp.exists():
            tmp.unlink()


def write_json(path: Path, data: Any) -> None:
    with atomic_path(path) as tmp:
        tmp.write_text(json.dumps(data, indent=2, sort_keys=False, default=str) + "\n")


def read_json(path: Path) -> Any:
    return json.loads(path.read_text())


#: Buffered bytes at which a :class:`ParquetSink` writes a row group, whatever its row count.
GROUP_BYTES = 128 << 20


class ParquetSink:
    """Buffers rows and writes them as row groups to a parquet file, atomically on close."""

    def __init__(self, path: Path, schema: pa.Schema, rows_per_group: int = 10_000) -> None:
        self.path = Path(path)
        self.schema = schema
        self.rows_per_group = rows_per_group
        self._ctx = atomic_path(self.path)
        self._tmp = self._ctx.__enter__()
        self._writer = pq.ParquetWriter(self._tmp, schema, compression="zstd")
        self._pending: list[pa.Table] = []
        self._pending_rows = 0
        self._pending_bytes = 0
        self.rows = 0

    def write(self, table: pa.Table | pa.RecordBatch) -> None:
        if isinstance(table, pa.RecordBatch):
            table = pa.Table.from_batches([table])
        if table.num_rows == 0:
            return
        self._pending.append(table.select(self.schema.names).cast(self.schema))
        self._pending_rows += table.num_rows
        self._pending_bytes += table.nbytes
        self.rows += table.num_rows
        # Rows of long conversations are large: bytes bound a row group's memory as well.
        if self._pending_rows >= self.rows_per_group or self._pending_bytes >= GROUP_BYTES:
            self._flush()

    def _flush(self) -> None:
        if self._pending:
            with self._naming_errors():
                self._writer.write_table(pa.concat_tables(self._pending), row_group_size=max(self._pending_rows, 1))
            self._pending, self._pending_rows, self._pending_bytes = [], 0, 0

    @contextmanager
    def _naming_errors(self) -> Iterator[None]:
        """pyarrow's I/O errors name no file: a full disk should say which one it was writing."""
        try:
            yield
        except OSError as exc:
            if exc.filename is not None:
                raise
            raise OSError(exc.errno, exc.strerror or str(exc), str(self.path)) from exc

    def close(self) -> None:
        self._flush()
        with self._naming_errors():
            self._writer.close()
        self._ctx.__exit__(None, None, None)

    def abort(self) -> None:
        self._writer.close()
        self._ctx.__exit__(RuntimeError, RuntimeError("aborted"), None)

    def __enter__(self) -> ParquetSink:
        return self

    def __exit__(self, exc_type, exc, tb) -> None:
        if exc_type is None:
            self.close()
        else:
            self.abort()


def iter_batches(path: Path, columns: list[str] | None = None, batch_size: int = 10_000) -> Iterator[pa.RecordBatch]:
    yield from pq.ParquetFile(path).iter_batches(batch_size=batch_size, columns=columns)
