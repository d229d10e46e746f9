"""Stage 1: run each source and DPO builder, validate its records, apply its cap, write one shard
per component.

Caps are the engine's for every loader (``Loader.max_items``, a recipe's ``max_items``, the run's
``global_cap``): valid records are spilled to a scratch file with their stratum, the kept ones are
chosen from the ids alone (seeded, order-independent), and only those are copied to the shard,
so each row is converted once and memory holds ids, never all records.
"""

from __future__ import annotations

import enum
import json
from collections.abc import Iterator
from dataclasses import asdict, dataclass, replace
from pathlib import Path
from typing import Any, ClassVar

import numpy as np
import pyarrow as pa
import pyarrow.parquet as pq

from .. import rng
from ..components import Loader
from ..containment import ItemTimeout, ItemTimer, PluginExit, contained, item_time_limit
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
    max_items: int | None = None
    per_stratum: bool = False
    #: Run-level: a loader keeping at least ``global_cap`` records keeps ``global_sample``.
    global_cap: int | None = None
    global_sample: int | None = None

    @property
    def any(self) -> bool:
        return self.max_items is not None or self.global_cap is not None


@dataclass(frozen=True)
class Limits:
    """Bounds on one record of a loader (the engine's ``max_turns`` / ``max_chars`` of
    :class:`~bagel_core.config.LoaderSettings`): a record past them is rejected (``too many
    turns``, ``too long``). An SFT item of n turns renders into n/2 rows holding up to n turns
    each, so one huge conversation would otherwise cost memory and output quadratic in its size."""

    #: Turns of a conversation (system turn included); ``None``: no limit.
    max_turns: int | None = None
    #: Characters of all the texts of a record; ``None``: no limit.
    max_chars: int | None = None
    #: Seconds a loader may take over one row (reading and converting it); ``None``: no limit.
    item_time_limit: float | None = None


@dataclass
class LoadTask:
    """Everything needed to load one component, picklable for worker processes."""

    cls: type[Loader]
    options: Any
    seed: int
    data_root: Path | None
    sample: bool
    shard: Path
    quiet: bool = True
    caps: Caps = Caps()
    limits: Limits = Limits()
    #: Keep DPO pairs whose chosen equals rejected (``[run] keep_identical_pairs``).
    identical_pairs: bool = False

    def data_access(self) -> DataAccess:
        return DataAccess.for_component(self.cls, self.data_root, self.sample)


def _table(records: list[Record], origin: str, strata: list[str | None] | None = None) -> pa.Table:
    columns: dict[str, list[Any]] = {name: [r.get(name) for r in records] for name in RECORD_FIELDS}
    columns["origin"] = [origin] * len(records)
    if strata is None:
        return pa.Table.from_pydict(columns, schema=WORK_SCHEMA)
    columns["stratum"] = strata
    return pa.Table.from_pydict(columns, schema=SPILL_SCHEMA)


def _write(
    sink: ParquetSink, buffer: list[Record], origin: str, strata: list[str | None] | None, ctx: LoadContext
) -> int:
    """Write ``buffer`` to ``sink``; returns how many records were written. A record holding a
    lone surrogate (half of a UTF-16 pair, which a plugin's own ``json.loads`` of a ``\\ud800``
    escape gives; no UTF-8 text can hold it) is rejected here, where Arrow fails to encode it,
    so valid text costs no check."""
    try:
        table = _table(buffer, origin, strata)
    except UnicodeEncodeError:
        good = [i for i, record in enumerate(buffer) if not _unencodable(record, ctx)]
        buffer, strata = [buffer[i] for i in good], None if strata is None else [strata[i] for i in good]
        table = _table(buffer, origin, strata)
    sink.write(table)
    return len(buffer)


def _unencodable(record: Record, ctx: LoadContext) -> bool:
    try:
        json.dumps(record, ensure_ascii=False).encode("utf-8")
    except UnicodeEncodeError:
        ctx.reject(LONE_SURROGATE, row=record)
        return True
    return False


#: The reason a record with text that is not Unicode (a lone surrogate) is rejected under.
LONE_SURROGATE = "lone surrogate"


def records(component: Loader, ctx: LoadContext, timer: ItemTimer | None = None) -> Iterator[tuple[str | None, Record]]:
    """``(stratum, record)`` for every record ``component`` emits, after its :meth:`setup`: from
    its own :meth:`load` if it overrides it (no strata), else from ``rows``/``convert``, reading
    ``stratum(row)`` for rows that converted when the loader is stratified. ``timer`` bounds
    each row (reading and converting it; with ``load()``, each record): a ``convert`` past it is
    counted as rejected (``time limit``), a reader past it raises :class:`ItemTimeout`."""
    cls = type(component)
    timer = timer or ItemTimer(None)
    component.setup(ctx)
    if cls.overrides("load"):
        produced = iter(component.load(ctx))
        while True:
            timer.start()
            try:
                record = next(produced, _END)
            finally:
                timer.stop()
            if record is _END:
                return
            yield None, record
    stratified = cls.overrides("stratum")
    rows = ctx.iter_rows(component.rows(ctx))
    while True:
        timer.start()
        try:
            row = next(rows, _END)
            if row is _END:
                return
            try:
                converted = ctx.convert_row(component.convert, row)
            except ItemTimeout:
                ctx.reject(TIME_LIMIT, row=row, detail=f"convert took longer than item_time_limit = {timer.seconds}s")
                converted = []
            stratum = component.stratum(row) if converted and stratified else None
        finally:
            timer.stop()
        for record in converted:
            yield stratum, record


class _End(enum.Enum):
    """What ``next(iterator, _END)`` gives at the end (an enum member, so that type checkers
    tell it apart from a record)."""

    END = 0


_END = _End.END
#: The reason a row whose conversion took longer than ``item_time_limit`` is counted under.
TIME_LIMIT = "time limit"


def _valid(record: Record, ctx: LoadContext, limits: Limits | None = None, identical_pairs: bool = False) -> bool:
    """Whether ``record`` is valid and within ``limits``; an invalid one is counted in ``ctx``
    under its reason, with the record as the plugin made it as the example."""
    reason = validate_record(record, identical_pairs=identical_pairs) or (limits and _over(record, limits))
    if reason:
        ctx.reject(reason, row=record)
    return not reason


def _over(record: Record, limits: Limits) -> str | None:
    """``too many turns`` / ``too long`` when ``record`` (a valid one) exceeds ``limits``."""
    turns = record.get("conversations")
    if limits.max_turns is not None and turns is not None and len(turns) > limits.max_turns:
        return TOO_MANY_TURNS
    if limits.max_chars is not None:
        texts = (
            [t["value"] for t in turns]
            if turns is not None
            else [
                record.get("text"),
                record.get("prompt"),
                record.get("chosen"),
                record.get("rejected"),
                record.get("system"),
            ]
        )
        if sum(len(t) for t in texts if t) > limits.max_chars:
            return TOO_LONG
    return None


#: The reasons a record past the loader's ``max_turns`` / ``max_chars`` is rejected under.
TOO_MANY_TURNS, TOO_LONG = "too many turns", "too long"


def _valid_pairs(
    pairs: Iterator[tuple[str | None, Record]],
    ctx: LoadContext,
    limits: Limits | None = None,
    identical_pairs: bool = False,
) -> Iterator[tuple[str | None, Record]]:
    return ((stratum, record) for stratum, record in pairs if _valid(record, ctx, limits, identical_pairs))


def load_records(component: Loader, ctx: LoadContext, caps: Caps | None = None) -> list[Record]:
    """The valid records of ``component`` as the load stage keeps them, caps applied, in memory:
    for previews and tests of small data."""
    pairs = list(_valid_pairs(records(component, ctx), ctx))
    if caps is None or not caps.any:
        return [record for _, record in pairs]
    keep = kept_rows([r["id"] for _, r in pairs], [s for s, _ in pairs], caps, ctx.seed, ctx.component, ctx)
    return [pairs[i][1] for i in keep]


def kept_rows(
    ids: list[str], strata: list[str | None], caps: Caps, seed: int, component: str, ctx: LoadContext
) -> list[int]:
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
            samples: dict[str | None, rng.BottomK[int]] = {}
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
    if caps.global_cap is not None and caps.global_sample is not None and len(keep) >= caps.global_cap:
        sample = rng.BottomK(caps.global_sample, seed, f"{component}:global cap")
        for i in keep:
            sample.offer(ids[i], i)
        ctx.filter("global cap", len(keep) - len(sample.items()))
        keep = sample.items()
    return keep


def _write_capped(spill: Path, shard: Path, caps: Caps, seed: int, component: str, ctx: LoadContext) -> int:
    """Copy the records of ``spill`` that ``caps`` keep into ``shard``; returns how many."""
    columns = pq.read_table(spill, columns=["id", "stratum"])
    keep = kept_rows(
        columns.column("id").to_pylist(), columns.column("stratum").to_pylist(), caps, seed, component, ctx
    )
    mask = np.zeros(columns.num_rows, dtype=bool)
    mask[keep] = True
    offset = 0
    with ParquetSink(shard, WORK_SCHEMA) as sink:
        for batch in iter_batches(spill):
            part = mask[offset : offset + batch.num_rows]
            offset += batch.num_rows
            if part.any():
                sink.write(pa.Table.from_batches([batch]).filter(pa.array(part)).drop_columns(["stratum"]))
    return len(keep)


def _label(cls: type[Loader]) -> str:
    return f"{cls.kind.replace('_', ' ')} {cls.name!r} ({cls.__module__})"


def _guarded(
    component: Loader, ctx: LoadContext, timer: ItemTimer | None = None
) -> Iterator[tuple[str | None, Record]]:
    """The component's ``(stratum, record)`` pairs; whatever it raises is its failure, named as
    such (``sys.exit()`` in it included). Errors of writing the shard (a full disk) are raised
    outside this generator and are not blamed on it."""
    label = _label(type(component))
    pairs = records(component, ctx, timer)
    while True:
        try:
            with contained(label):
                pair = next(pairs)
        except StopIteration:
            return
        except RowFailure as exc:
            raise LoadError(f"{label} {exc}") from exc
        except PluginExit as exc:
            raise LoadError(str(exc)) from None
        except ItemTimeout:
            after = f"after {ctx.where()}" if ctx.where() else "at the start"
            raise LoadError(
                f"{label} took longer than item_time_limit = {timer.seconds if timer else '?'}s reading its rows ({after})"
            ) from None
        except OSError as exc:
            if is_environment(exc) or is_environment(exc.__cause__):
                raise  # a full disk is not the component's fault
            raise LoadError(f"{label} failed: {type(exc).__name__}: {exc}") from exc
        except (DatasetUnavailable, MalformedFile) as exc:  # their messages say it all
            raise LoadError(f"{label} failed: {exc}") from exc
        except RecursionError as exc:
            raise LoadError(
                f"{label} failed on {ctx.where() or 'a row'}: data nested too deeply to handle ({exc})"
            ) from exc
        except Exception as exc:
            raise LoadError(f"{label} failed: {type(exc).__name__}: {exc}") from exc
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
    try:
        with contained(_label(cls)):
            component = cls(task.options)
    except PluginExit as exc:
        raise LoadError(str(exc)) from None
    capped = task.caps.any
    target = task.shard.with_name(task.shard.stem + ".uncapped.parquet") if capped else task.shard
    buffer: list[Record] = []
    strata: list[str | None] = []
    with (
        ParquetSink(target, SPILL_SCHEMA if capped else WORK_SCHEMA) as sink,
        item_time_limit(task.limits.item_time_limit) as timer,
    ):
        valid = _valid_pairs(_guarded(component, ctx, timer), ctx, task.limits, task.identical_pairs)
        for stratum, record in valid:
            buffer.append(record)
            strata.append(stratum)
            if len(buffer) >= BATCH:
                ctx.counts.loaded += _write(sink, buffer, cls.name, strata if capped else None, ctx)
                buffer, strata = [], []
        ctx.counts.loaded += _write(sink, buffer, cls.name, strata if capped else None, ctx)
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
        # Joins the key only when on, so earlier load caches stay valid.
        extra = [{"identical_pairs": True}] if t.identical_pairs else []
        return [self.identity, t.seed, self.data_fingerprint, asdict(t.caps), asdict(t.limits), *extra]

    def label(self) -> str:
        return f"load {self.task.cls.name}"

    def folder_name(self, fingerprint: str) -> str:
        return f"{self.task.cls.kind}-{self.task.cls.name}-{fingerprint}"

    def run(self, folder: Path, inputs: list[Path]) -> dict:
        return run_load(replace(self.task, shard=folder / SHARD)).as_dict()
