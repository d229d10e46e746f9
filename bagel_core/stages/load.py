"""Stage 1: run each source and DPO builder, validate its records, write one shard per component."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any, Iterator, Optional

import pyarrow as pa
from tqdm.auto import tqdm

from ..components import Loader
from ..context import LoadContext, LoadCounts
from ..data import DataAccess, DatasetUnavailable
from ..readers import MalformedFile, RowFailure
from ..records import RECORD_FIELDS
from ..storage import ParquetSink, read_json, write_json
from ..validation import validate_record
from . import WORK_SCHEMA

BATCH = 10_000


class LoadError(Exception):
    """A component failed as a whole (not one row): the message names it."""


@dataclass
class LoadTask:
    """Everything needed to load one component, picklable for worker processes."""

    cls: type[Loader]
    options: Any
    seed: int
    data_root: Optional[Path]
    sample: bool
    shard: Path
    quiet: bool = True

    @property
    def counts_path(self) -> Path:
        return self.shard.with_suffix(".json")

    def done(self) -> bool:
        return self.shard.exists() and self.counts_path.exists()

    def data_access(self) -> DataAccess:
        return DataAccess.for_component(self.cls, self.data_root, self.sample)


def _table(records: list[dict], origin: str) -> pa.Table:
    columns = {name: [r.get(name) for r in records] for name in RECORD_FIELDS}
    columns["origin"] = [origin] * len(records)
    return pa.Table.from_pydict(columns, schema=WORK_SCHEMA)


def validated(records: Iterator[dict], ctx: LoadContext) -> Iterator[dict]:
    """The valid ``records``; each invalid one is counted in ``ctx`` under its reason."""
    for record in records:
        reason = validate_record(record)
        if reason is None:
            yield record
        else:
            ctx.reject(reason)


def _label(cls: type[Loader]) -> str:
    return f"{cls.kind.replace('_', ' ')} {cls.name!r} ({cls.__module__})"


def _records(component: Loader, ctx: LoadContext) -> Iterator[dict]:
    """The component's records; whatever it raises is its failure, named as such. Errors of
    writing the shard (a full disk) are raised outside this generator and are not blamed on it."""
    records = iter(component.load(ctx))
    while True:
        try:
            record = next(records)
        except StopIteration:
            return
        except RowFailure as exc:
            raise LoadError(f"{_label(type(component))} {exc}") from exc
        except (DatasetUnavailable, MalformedFile) as exc:  # their messages say it all
            raise LoadError(f"{_label(type(component))} failed: {exc}") from exc
        except Exception as exc:
            raise LoadError(f"{_label(type(component))} failed: {type(exc).__name__}: {exc}") from exc
        yield record


def check_not_all_rejected(cls: type[Loader], counts: LoadCounts) -> None:
    """A component whose every row was rejected has a problem with its input as a whole (a
    required column missing from the file, a wrong file): an error, not an empty success."""
    rejected = sum(counts.rejected.values())
    if counts.loaded or not rejected:
        return
    reason, n = counts.rejected.most_common(1)[0]
    example = counts.examples.get(reason, {})
    first = f"; first at {example['at']}" if example.get("at") else ""
    raise LoadError(f"{_label(cls)}: every row was rejected ({rejected} rows; {n} for {reason!r}{first})")


def run_load(task: LoadTask) -> LoadCounts:
    """Load one component into its shard (atomically) and return its counts."""
    if task.done():
        return LoadCounts.from_dict(read_json(task.counts_path))
    cls = task.cls
    ctx = LoadContext(cls.name, task.seed, task.data_access(), task.options, task.quiet)
    component = cls(task.options)
    buffer: list[dict] = []
    with ParquetSink(task.shard, WORK_SCHEMA) as sink:
        progress = tqdm(desc=f"load {cls.name}", unit=" rec", disable=task.quiet, leave=False)
        for record in validated(_records(component, ctx), ctx):
            buffer.append(record)
            if len(buffer) >= BATCH:
                sink.write(_table(buffer, cls.name))
                ctx.counts.loaded += len(buffer)
                progress.update(len(buffer))
                buffer = []
        sink.write(_table(buffer, cls.name))
        ctx.counts.loaded += len(buffer)
        progress.close()
        check_not_all_rejected(cls, ctx.counts)  # before the shard is kept, so a rerun retries
    write_json(task.counts_path, ctx.counts.as_dict())
    return ctx.counts
