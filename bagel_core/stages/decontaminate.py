"""Stage 3: find items that match benchmark texts and remove them (by id, SFT and DPO alike).

Every selected decontaminator indexes the texts of the selected benchmark sets, then searches
every item in batches (with ``num_proc`` > 1, in worker processes that each hold an index); an
id matched by any of them is removed. ``dry_run`` writes the report and removes nothing.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any, ClassVar

import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.parquet as pq

from ..components import BenchmarkSet, BenchmarkText, Decontaminator, Match, Query
from ..console import progress
from ..containment import PluginExit, contained, who
from ..context import LoadContext
from ..data import DatasetUnavailable
from ..processes import cores, in_order, limit_threads, start_context, worker_pool
from ..readers import MalformedFile, RowFailure
from ..storage import ParquetSink, iter_batches
from . import DPO_WORK_SCHEMA, SFT_WORK_SCHEMA
from .runner import Stage

QUERY_BATCH = 4096

CONTAMINATION_SCHEMA = pa.schema(
    [
        ("id", pa.string()),
        ("source", pa.string()),
        ("decontaminator", pa.string()),
        ("benchmark", pa.string()),
        ("benchmark_item", pa.string()),
        ("score", pa.float64()),
        ("text", pa.string()),
        ("benchmark_text", pa.string()),
        ("views", pa.string()),
    ]
)


def _queries(sft: Path, dpo: Path) -> Iterator[tuple[list[Query], list[str]]]:
    """Batches of queries (and the origin of each): SFT conversations, then DPO pairs.

    A query carries its first human turn as ``text``, every human turn, and every answer (the
    assistant turns; a DPO pair's chosen and rejected answers); each decontaminator chooses
    which to check (its view options for the built-in ones).
    """
    for batch in iter_batches(sft, columns=["id", "source", "origin", "conversations"], batch_size=QUERY_BATCH):
        queries, origins = [], []
        for item_id, source, origin, turns in zip(*(batch.column(i).to_pylist() for i in range(4))):
            human = tuple(t["value"] for t in turns or () if t["from"] == "human" and t["value"])
            if not human:  # plain text, or no human turn: nothing to check
                continue
            answers = tuple(t["value"] for t in turns if t["from"] == "gpt" and t["value"])
            queries.append(Query(item_id, source, human[0], human, answers))
            origins.append(origin)
        yield queries, origins
    for batch in iter_batches(
        dpo, columns=["id", "source", "origin", "prompt", "chosen", "rejected"], batch_size=QUERY_BATCH
    ):
        ids, sources, origins, prompts, chosen, rejected = (batch.column(i).to_pylist() for i in range(6))
        yield (
            [
                Query(i, s, p, (p,), tuple(a for a in (c, r) if a))
                for i, s, p, c, r in zip(ids, sources, prompts, chosen, rejected)
            ],
            origins,
        )


#: What the report holds instead of the text of a set with ``redact_text`` (and instead of the
#: matched text of an item that matches one: it quotes the benchmark).
WITHHELD = "<withheld: the benchmark's text is never written out>"


def withhold(found: list[list[Match]], redacted: frozenset[str]) -> list[list[Match]]:
    """Each decontaminator's ``found`` matches of one batch with the texts that could quote a
    benchmark of ``redacted`` withheld: the benchmark text of its matches, and the item's
    matched text in every match of an item that matches one of them (an item's matches are all
    in its batch)."""
    quoting = {m.id for matches in found for m in matches if m.benchmark in redacted}
    if not quoting:
        return found
    return [
        [
            replace(m, text=WITHHELD, benchmark_text=WITHHELD if m.benchmark in redacted else m.benchmark_text)
            if m.id in quoting
            else m
            for m in matches
        ]
        for matches in found
    ]


def withheld_ids(contamination: Path) -> set[str]:
    """The ids of the items whose matched text ``contamination`` withholds."""
    if not contamination.exists():
        return set()
    table = pq.read_table(contamination, columns=["id", "text"])
    return {i for i, text in zip(table.column("id").to_pylist(), table.column("text").to_pylist()) if text == WITHHELD}


def withhold_duplicates(report: Path, dest: Path, withheld: set[str], schema: pa.Schema) -> None:
    """The dedup report ``report`` as ``dest``, with the texts of the rows that involve an item
    of ``withheld`` (as the duplicate removed or the item kept) withheld: dedup ran before
    decontamination, so its report quotes such an item and its near copies."""
    ids = pa.array(sorted(withheld), pa.string())
    with ParquetSink(dest, schema) as sink:
        for batch in iter_batches(report):
            involved = pc.or_(pc.is_in(batch.column("id"), ids), pc.is_in(batch.column("kept_id"), ids))
            columns = {name: batch.column(name) for name in schema.names}
            for name in ("text", "kept_text"):
                columns[name] = pc.if_else(involved, pa.scalar(WITHHELD), columns[name])
            sink.write(pa.Table.from_pydict(columns, schema=schema))


#: A decontaminator to build: (class, options, cache dir).
Spec = tuple[type[Decontaminator], Any, Path | None]


def _indexed(specs: Sequence[Spec], benchmarks: Sequence[BenchmarkText]) -> list[Decontaminator]:
    instances = []
    for cls, options, cache in specs:
        with contained(who(cls)):
            instances.append(cls(options, cache_dir=cache))
            instances[-1].index(benchmarks)
    return instances


def _search(instances: Sequence[Decontaminator], queries: list[Query]) -> list[list[Match]]:
    """Each decontaminator's matches among ``queries``."""
    found = []
    for d in instances:
        with contained(who(type(d))):
            found.append(list(d.search(queries)))
    return found


#: A worker's decontaminators, indexed once when it starts (or what their indexing raised,
#: re-raised by its first search so the run fails with the plugin's own error).
_WORKER: dict[str, Any] = {}


def _start_worker(specs: Sequence[Spec], benchmarks: Sequence[BenchmarkText], threads: int) -> None:
    limit_threads(threads)
    try:
        _WORKER["instances"] = _indexed(specs, benchmarks)
    except Exception as error:  # noqa: BLE001 - raised again by the worker's first search
        _WORKER["error"] = error


def _worker_search(queries: list[Query]) -> list[list[Match]]:
    if "error" in _WORKER:
        raise _WORKER["error"]
    return _search(_WORKER["instances"], queries)


def _batches(
    specs: Sequence[Spec], benchmarks: Sequence[BenchmarkText], sft: Path, dpo: Path, num_proc: int
) -> Iterator[tuple[list[Query], list[str], list[list[Match]]]]:
    """Each batch of queries with its origins and matches, in order: searched here, or in
    ``num_proc`` worker processes that each index the benchmarks once (a bounded window of
    batches in flight keeps memory flat)."""
    if num_proc <= 1:
        instances = _indexed(specs, benchmarks)
        for queries, origins in _queries(sft, dpo):
            yield queries, origins, _search(instances, queries)
        return
    # spawn, not fork: an earlier stage may have started torch's or faiss's thread pools here,
    # which a forked child can not use.
    threads = max(1, cores() // num_proc)
    with worker_pool(num_proc, start_context("spawn"), _start_worker, (specs, benchmarks, threads)) as pool:
        for (queries, origins), found in in_order(
            lambda batch: pool.submit(_worker_search, batch[0]), _queries(sft, dpo), 4 * num_proc
        ):
            yield queries, origins, found


def run_decontaminate(
    decontaminators: Sequence[Spec],
    benchmarks: Sequence[BenchmarkText],
    in_dir: Path,
    out_dir: Path,
    dry_run: bool,
    quiet: bool = True,
    num_proc: int = 1,
    redacted: frozenset[str] = frozenset(),
) -> dict:
    """Write ``out_dir/{sft,dpo,contamination}.parquet`` and return the counts. The result is
    the same for any ``num_proc``. Matches against the benchmarks named in ``redacted`` are
    reported without text (:func:`withhold`)."""
    flagged: set[str] = set()
    by_origin: dict[str, Counter] = {}
    by_benchmark: Counter = Counter()
    total = sum(pq.read_metadata(p).num_rows for p in (in_dir / "sft.parquet", in_dir / "dpo.parquet") if p.exists())
    with (
        ParquetSink(out_dir / "contamination.parquet", CONTAMINATION_SCHEMA) as report,
        progress("decontaminate", total=total, disable=quiet) as shown,
    ):
        for queries, origins, found in _batches(
            decontaminators, benchmarks, in_dir / "sft.parquet", in_dir / "dpo.parquet", num_proc
        ):
            origin_of = dict(zip((q.id for q in queries), origins))
            found = withhold(found, redacted) if redacted else found
            for matches in found:
                if matches:
                    report.write(pa.Table.from_pylist([m.__dict__ for m in matches], schema=CONTAMINATION_SCHEMA))
                for m in matches:
                    by_benchmark[m.benchmark] += m.id not in flagged
                    if m.id not in flagged:
                        by_origin.setdefault(origin_of[m.id], Counter())[m.decontaminator] += 1
                    flagged.add(m.id)
            shown.update(len(queries))
    removed = set() if dry_run else flagged
    for name, schema in (("sft", SFT_WORK_SCHEMA), ("dpo", DPO_WORK_SCHEMA)):
        with ParquetSink(out_dir / f"{name}.parquet", schema) as sink:
            for batch in iter_batches(in_dir / f"{name}.parquet"):
                if removed:
                    batch = batch.filter(pa.array([i not in removed for i in batch.column("id").to_pylist()]))
                sink.write(batch)
    counts = {
        "flagged": len(flagged),
        "removed": len(removed),
        "dry_run": dry_run,
        "by_origin": {o: dict(c) for o, c in by_origin.items()},
        "by_benchmark": dict(by_benchmark),
    }
    return counts


#: The counts of a run without decontaminators.
NO_CONTAMINATION = {"flagged": 0, "removed": 0, "dry_run": False, "by_origin": {}, "by_benchmark": {}, "benchmarks": {}}


class DecontaminationUnavailable(Exception):
    """Decontamination as selected cannot run: a benchmark set's data or a library it needs is
    missing. It is on by default, so the message also says how to run without it."""


class BenchmarkError(Exception):
    """A benchmark set failed, or gave nothing to decontaminate against: a run decontaminated
    against less than was asked for looks clean and is not."""


def benchmark_texts(
    cls: type[BenchmarkSet], options: Any, data: Any, seed: int
) -> tuple[list[BenchmarkText], dict[str, Any]]:
    """The texts of one benchmark set, and what happened to its rows: ``{"texts": n,
    "rejected": {reason: n}}``. Rows of bad data
    are counted and skipped, as a source's are; a set that fails, or whose every row is
    rejected, stops the run naming it; so does missing data, with how to run without it."""
    ctx = LoadContext(cls.name, seed, data, options)
    label = f"benchmark set {cls.name!r} ({cls.__module__})"
    try:
        with contained(label):
            texts = list(cls(options).texts(ctx))
    except DatasetUnavailable as exc:
        raise DecontaminationUnavailable(
            f"benchmark set {cls.name!r}: {exc}; or decontaminate without it (--benchmarks a,b) or not at all (--decontaminate none)"
        ) from exc
    except RowFailure as exc:
        raise BenchmarkError(f"{label} {exc}") from exc
    except MalformedFile as exc:
        raise BenchmarkError(f"{label} failed: {exc}") from exc
    except PluginExit as exc:
        raise BenchmarkError(str(exc)) from None
    except Exception as exc:
        raise BenchmarkError(f"{label} failed: {type(exc).__name__}: {exc}") from exc
    rejected = ctx.counts.rejected
    if not texts:
        why = "; ".join(
            f"{reason}: {n} (first at {ctx.counts.examples.get(reason, {}).get('at', '?')})"
            for reason, n in rejected.most_common()
        )
        raise BenchmarkError(
            f"{label}: no text to decontaminate against" + (f", every row rejected ({why})" if why else "")
        )
    # No example rows: they would copy test items into the published manifest.
    return texts, {"texts": len(texts), "rejected": dict(rejected)}


@dataclass
class DecontaminateStage(Stage):
    """Stage 3: remove (or, in a dry run, only report) items that match benchmark texts."""

    name: ClassVar[str] = "decontaminate"
    dedup: Stage
    #: ``(class, options)`` of each decontaminator, in order.
    decontaminators: list
    #: ``(class, options, data access)`` of each benchmark set.
    benchmarks: list
    identities: Any
    seed: int
    dry_run: bool
    cache_root: Path
    quiet: bool = True
    #: Worker processes searching batches side by side; not part of the key (same output).
    num_proc: int = 1

    @property
    def inputs(self) -> list[Stage]:  # type: ignore[override]
        return [self.dedup]

    def key(self) -> Any:
        return [self.identities, self.dry_run]

    def run(self, folder: Path, inputs: list[Path]) -> dict:
        specs = [(cls, options, self.cache_root / cls.name) for cls, options in self.decontaminators]
        texts: list[BenchmarkText] = []
        sets: dict[str, dict[str, Any]] = {}
        redacted: set[str] = set()
        for cls, options, data in self.benchmarks:
            found, sets[cls.name] = benchmark_texts(cls, options, data, self.seed)
            texts.extend(found)
            if cls.redact_text:
                redacted.update({cls.name} | {t.benchmark for t in found})
        counts = run_decontaminate(
            specs, texts, inputs[0], folder, self.dry_run, self.quiet, self.num_proc, frozenset(redacted)
        )
        return counts | {"benchmarks": sets}
