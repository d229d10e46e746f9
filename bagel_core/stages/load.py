"""Stage 1: run each source and DPO builder, validate its records, apply its cap, write one shard
per component.

Caps are the engine's for every loader (``Loader.max_items``, a recipe's ``max_items``, the run's
``global_cap``): valid records are spilled to a scratch file with their stratum, the kept ones are
chosen from the ids alone (seeded, order-independent), and only those are copied to the shard,
so each row is converted once and memory holds ids, never all records.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, replace
from pathlib import Path
from typing import Any, ClassVar, Iterator, Optional

import numpy as np
import pyarrow as pa
import pyarrow.parquet as pq

from .. import rng
from ..components import Loader
from ..context import LoadContext, LoadCounts
from ..data import DataAccess, DatasetUnavailable
from ..errors import is_environment
from ..readers import MalformedFile, RowFailure
from ..records import RECORD_FIELDS, Record
from ..storage import ParquetSink, iter_batches
from ..validation import validate_record
from . import WORK_SCHEMA
from .runner import Stage

#: The scratch file of a capped load: work records plus the stratum of each.
SPILL_SCHEMA = WORK_SCHEMA.append(pa.field("stratum", pa.string()))

BATCH = 10_000


class LoadError(Exception):
    """A component failed as a whole (not one row): the message names it."""


@dataclass(frozen=True)
class Caps:
    """The caps that apply to one loader."""

    #: At most this many records (``None``: no cap); per stratum with ``per_stratum``.
    max_items: Optional[int] = None
    per_stratum: bool = False
    #: Run-level: a loader keeping at least ``global_cap`` records keeps ``global_sample``.
    global_cap: Optional[int] = None
    global_sample: Optional[int] = None

    @property
    def any(self) -> bool:
        return self.max_items is not None or self.global_cap is not None


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
    caps: Caps = Caps()

    def data_access(self) -> DataAccess:
        return DataAccess.for_component(self.cls, self.data_root, self.sample)


def _table(records: list[dict], origin: str, strata: Optional[list[Optional[str]]] = None) -> pa.Table:
    columns = {name: [r.get(name) for r in records] for name in RECORD_FIELDS}
    columns["origin"] = [origin] * len(records)
    if strata is None:
        return pa.Table.from_pydict(columns, schema=WORK_SCHEMA)
    columns["stratum"] = strata
    return pa.Table.from_pydict(columns, schema=SPILL_SCHEMA)


def records(component: Loader, ctx: LoadContext) -> Iterator[tuple[Optional[str], Record]]:
    """``(stratum, record)`` for every record ``component`` emits, after its :meth:`setup`: from
    its own :meth:`load` if it overrides it (no strata), else from ``rows``/``convert``, reading
    ``stratum(row)`` for rows that converted when the loader is stratified."""
    cls = type(component)
    component.setup(ctx)
    if cls.overrides("load"):
        for record in component.load(ctx):
            yield None, record
        return
    stratified = cls.overrides("stratum")
    for row in ctx.iter_rows(component.rows(ctx)):
        converted = ctx.convert_row(component.convert, row)
        if converted:
            stratum = component.stratum(row) if stratified else None
            for record in converted:
                yield stratum, record


def _valid(record: dict, ctx: LoadContext) -> bool:
    """Whether ``record`` is valid; an invalid one is counted in ``ctx`` under its reason, with
    the record as the plugin made it as the example."""
    reason = validate_record(record)
    if reason is not None:
        ctx.reject(reason, row=record)
    return reason is None


def validated(records: Iterator[dict], ctx: LoadContext) -> Iterator[dict]:
    """The valid ``records``; each invalid one is counted in ``ctx`` under its reason."""
    return (record for record in records if _valid(record, ctx))


def _valid_pairs(pairs: Iterator[tuple[Optional[str], dict]], ctx: LoadContext) -> Iterator[tuple[Optional[str], dict]]:
    return ((stratum, record) for stratum, record in pairs if _valid(record, ctx))


def load_records(component: Loader, ctx: LoadContext, caps: "Caps | None" = None) -> list[Record]:
    """The valid records of ``component`` as the load stage keeps them, caps applied, in memory:
    for previews and tests of small data."""
    pairs = list(_valid_pairs(records(component, ctx), ctx))
    if caps is None or not caps.any:
        return [record for _, record in pairs]
    keep = kept_rows([r["id"] for _, r in pairs], [s for s, _ in pairs], caps, ctx.seed, ctx.component, ctx)
    return [pairs[i][1] for i in keep]


def kept_rows(ids: list[str], strata: list[Optional[str]], caps: Caps, seed: int, component: str, ctx: LoadContext) -> list[int]:
    """Indices (in arrival order) of the records the caps keep; the rest are counted as filtered
    under ``cap`` / ``global cap``. Draws match ``ctx.bottom_k`` / ``ctx.stratified_sample`` of
    the same component, so a cap gives the same records whichever way it is asked for."""
    keep = list(range(len(ids)))
    if caps.max_items is not None:
        n = caps.max_items
        if all(s is None for s in strata):
            sample: rng.BottomK[int] = rng.BottomK(n, seed, f"{component}:cap")
            for i in keep:
                sample.offer(ids[i], i)
            keep = sample.items()
        elif caps.per_stratum:
            samples: dict[Optional[str], rng.BottomK[int]] = {}
            for i in keep:
                if strata[i] not in samples:
                    samples[strata[i]] = rng.BottomK(n, seed, f"{component}:cap:{strata[i]}")
                samples[strata[i]].offer(ids[i], i)
            keep = sorted(i for s in samples.values() for i in s.items())
        else:
            by_stratum: dict[str, list[str]] = {}
            for i in keep:
                by_stratum.setdefault(str(strata[i]), []).append(ids[i])
            drawn = rng.stratified_sample(by_stratum, n, seed, f"{component}:cap")
            keep = [i for i in keep if ids[i] in drawn]
        if len(ids) > len(keep):
            ctx.filter("cap", len(ids) - len(keep))
    if caps.global_cap is not None and len(keep) >= caps.global_cap:
        sample = rng.BottomK(caps.global_sample, seed, f"{component}:global cap")
        for i in keep:
            sample.offer(ids[i], i)
        ctx.filter("global cap", len(keep) - len(sample.items()))
        keep = sample.items()
    return keep


def _write_capped(spill: Path, shard: Path, caps: Caps, seed: int, component: str, ctx: LoadContext) -> int:
    """Copy the records of ``spill`` that ``caps`` keep into ``shard``; returns how many."""
    columns = pq.read_table(spill, columns=["id", "stratum"])
    keep = kept_rows(columns.column("id").to_pylist(), columns.column("stratum").to_pylist(), caps, seed, component, ctx)
    mask = np.zeros(columns.num_rows, dtype=bool)
    mask[keep] = True
    offset = 0
    with ParquetSink(shard, WORK_SCHEMA) as sink:
        for batch in iter_batches(spill):
            part = mask[offset:offset + batch.num_rows]
            offset += batch.num_rows
            if part.any():
                sink.write(pa.Table.from_batches([batch]).filter(pa.array(part)).drop_columns(["stratum"]))
    return len(keep)


def _label(cls: type[Loader]) -> str:
    return f"{cls.kind.replace('_', ' ')} {cls.name!r} ({cls.__module__})"


def _guarded(component: Loader, ctx: LoadContext) -> Iterator[tuple[Optional[str], dict]]:
    """The component's ``(stratum, record)`` pairs; whatever it raises is its failure, named as
    such. Errors of writing the shard (a full disk) are raised outside this generator and are not
    blamed on it."""
    pairs = records(component, ctx)
    while True:
        try:
            pair = next(pairs)
        except StopIteration:
            return
        except RowFailure as exc:
            raise LoadError(f"{_label(type(component))} {exc}") from exc
        except OSError as exc:
            if is_environment(exc) or is_environment(exc.__cause__):
                raise  # a full disk is not the component's fault
            raise LoadError(f"{_label(type(component))} failed: {type(exc).__name__}: {exc}") from exc
        except (DatasetUnavailable, MalformedFile) as exc:  # their messages say it all
            raise LoadError(f"{_label(type(component))} failed: {exc}") from exc
        except Exception as exc:
            raise LoadError(f"{_label(type(component))} failed: {type(exc).__name__}: {exc}") from exc
        yield pair


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
    cls = task.cls
    ctx = LoadContext(cls.name, task.seed, task.data_access(), task.options, task.quiet)
    component = cls(task.options)
    capped = task.caps.any
    target = task.shard.with_name(task.shard.stem + ".uncapped.parquet") if capped else task.shard
    buffer: list[dict] = []
    strata: list[Optional[str]] = []
    with ParquetSink(target, SPILL_SCHEMA if capped else WORK_SCHEMA) as sink:
        for stratum, record in _valid_pairs(_guarded(component, ctx), ctx):
            buffer.append(record)
            strata.append(stratum)
            if len(buffer) >= BATCH:
                sink.write(_table(buffer, cls.name, strata if capped else None))
                ctx.counts.loaded += len(buffer)
                buffer, strata = [], []
        sink.write(_table(buffer, cls.name, strata if capped else None))
        ctx.counts.loaded += len(buffer)
        check_not_all_rejected(cls, ctx.counts)  # before the shard is kept, so a rerun retries
    if capped:
        ctx.counts.loaded = _write_capped(target, task.shard, task.caps, task.seed, cls.name, ctx)
        target.unlink()
    return ctx.counts


#: The file of a load stage's folder holding the loader's records.
SHARD = "records.parquet"


@dataclass
class LoadStage(Stage):
    """Stage 1, once per loader (so changing one source's options reloads only that source):
    its records, validated and capped, in ``records.parquet``."""

    name: ClassVar[str] = "load"
    task: LoadTask
    #: The loader's identity (distribution, version, options, cap) and what else its output
    #: depends on (the data it reads).
    identity: Any
    data_fingerprint: str

    def key(self) -> Any:
        t = self.task
        return [self.identity, t.seed, self.data_fingerprint, asdict(t.caps)]

    def label(self) -> str:
        return f"load {self.task.cls.name}"

    def folder_name(self, fingerprint: str) -> str:
        return f"{self.task.cls.kind}-{self.task.cls.name}-{fingerprint}"

    def run(self, folder: Path, inputs: list[Path]) -> dict:
        return run_load(replace(self.task, shard=folder / SHARD)).as_dict()
