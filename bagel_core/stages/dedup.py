"""Stage 2: remove duplicates with the chain of selected dedupers (``--dedup exact,minhash``).

Items are numbered in priority order (shards come highest priority first, ties in the stable
order of components; rows in load order). Each deduper of the chain sees, in that order, the
items the previous ones kept, and reports duplicates of earlier kept items; so within a
cluster the item of the highest-priority source is kept, whatever ``--num-proc`` and however
the sources were listed.

SFT items and DPO pairs are deduplicated apart, each scope with its own instances of the
dedupers. The reference's own rules (one set of ids shared by both scopes, its exceptions, and
DPO-only builders) are in :mod:`bagel_core.stages.reference_dedup`.

Writes ``sft.parquet`` and ``dpo.parquet`` (the kept rows), ``near_duplicates.parquet`` (each
removed item beside the item it duplicates, with their similarity) and ``counts.json``.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable, Collection, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any, ClassVar

import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.parquet as pq

from ..components import DedupBatch, Deduper
from ..containment import contained, who
from ..storage import ParquetSink
from . import DPO_WORK_SCHEMA, SFT_WORK_SCHEMA, Configured
from .reference_dedup import (
    Blocked,
    DedupScope,
    ReferenceRules,
    SharedIds,
    count_dpo_only,
    dpo_only_pairs,
    drop_owned_elsewhere,
    id_owners,
    is_blocked,
)
from .runner import Stage

REPORT = "near_duplicates.parquet"
REPORT_SCHEMA = pa.schema(
    [
        ("scope", pa.string()),  # sft | dpo
        ("id", pa.string()),
        ("source", pa.string()),  # the component that loaded it
        ("deduper", pa.string()),
        ("similarity", pa.float64()),
        ("kept_id", pa.string()),
        ("kept_source", pa.string()),
        ("text", pa.string()),
        ("kept_text", pa.string()),
    ]
)
SCOPES = {"sft": SFT_WORK_SCHEMA, "dpo": DPO_WORK_SCHEMA}


def _sft_mask(table: pa.Table, blocked: Blocked) -> pa.Array:
    """SFT records (of a scan's light columns) whose id no DPO-only pair of their own upstream has."""
    mask = table["is_sft"]
    if blocked:
        ids, origins = table.column("id").to_pylist(), table.column("origin").to_pylist()
        mask = pc.and_(mask, pa.array([not is_blocked(i, o, blocked) for i, o in zip(ids, origins)], pa.bool_()))
    return mask


def _in_scope(table: pa.Table, scope: str, blocked: Blocked) -> pa.Array:
    """Which rows of ``table`` (a scan's light columns) belong to ``scope``."""
    return _sft_mask(table, blocked) if scope == "sft" else table["in_dpo"]


#: The heavy columns: read once more only for the dedupers that compare texts.
TEXT_COLUMNS = ["conversations", "text", "prompt"]


@dataclass
class _Scan:
    """What every pass but the last needs of the shards, read once: per shard and row group,
    ids, labels and which scope each row is in (the conversation's validity is read from its
    smallest leaf column, not from the turns' texts)."""

    shards: Sequence[Path]
    #: Per shard, per row group: id, source, origin, is_sft, in_dpo.
    groups: list[list[pa.Table]]

    @classmethod
    def read(cls, shards: Sequence[Path]) -> _Scan:
        groups = []
        for shard in shards:
            file = pq.ParquetFile(shard)
            paths = [file.schema.column(i).path for i in range(len(file.schema))]
            turn_leaf = min((p for p in paths if p.startswith("conversations.")), key=lambda p: not p.endswith(".from"))
            light = []
            for g in range(file.num_row_groups):
                t = file.read_row_group(g, columns=["id", "source", "origin", turn_leaf])
                valid = lambda name, g=g, file=file, paths=paths: _valid(file, paths, g, name)  # noqa: E731
                light.append(
                    pa.table(
                        {
                            "id": t["id"],
                            "source": t["source"],
                            "origin": t["origin"],
                            "is_sft": pc.or_(pc.is_valid(t["conversations"]), valid("text")),
                            "in_dpo": valid("prompt"),
                        }
                    )
                )
            groups.append(light)
        return cls(shards, groups)

    def masks(self, scope: str, blocked: Blocked) -> list[list[pa.Array]]:
        return [[_in_scope(light, scope, blocked) for light in shard] for shard in self.groups]

    def texts(self, shard: int, group: int, rows: pa.Array, scope: str) -> list[str]:
        """The texts of the rows ``rows`` selects in one row group (read for the dedupers that
        compare texts; ``exact`` compares ids only)."""
        table = pq.ParquetFile(self.shards[shard]).read_row_group(group, columns=TEXT_COLUMNS)
        return texts_of(table.filter(rows), scope)


def _valid(file: pq.ParquetFile, paths: list[str], group: int, name: str) -> pa.Array:
    """Which rows of a row group have a value in the string column ``name``: from the row
    group's statistics when it is all null or all set (an SFT shard's ``prompt``, a DPO
    shard's ``text``), else read."""
    rows = file.metadata.row_group(group).num_rows
    stats = file.metadata.row_group(group).column(paths.index(name)).statistics
    if stats is not None and stats.has_null_count and stats.null_count in (0, rows):
        return pa.array([stats.null_count == 0] * rows, pa.bool_())
    return pc.is_valid(file.read_row_group(group, columns=[name])[name])


def texts_of(part: pa.Table, scope: str) -> list[str]:
    """What dedupers compare: an SFT item's human turns joined by a newline (the text its id
    is made from), its plain text when it has no conversation; a DPO pair's prompt."""
    if scope == "dpo":
        return part.column("prompt").to_pylist()
    conversations = part.column("conversations").combine_chunks()
    turns = pc.list_flatten(conversations)
    human = pc.equal(turns.field("from"), "human")
    parents = pc.list_parent_indices(conversations).filter(human).to_pylist()
    values = turns.field("value").filter(human).to_pylist()
    joined: list[list[str]] = [[] for _ in range(part.num_rows)]
    for parent, value in zip(parents, values):
        if value:
            joined[parent].append(value)
    plain = part.column("text").to_pylist()
    return ["\n".join(j) if j else (p or "") for j, p in zip(joined, plain)]


class _Texts(Sequence[str]):
    """The texts of a batch, extracted only if a deduper reads them (``exact`` does not)."""

    def __init__(self, count: int, read: Callable[[], list[str]]) -> None:
        self._count, self._read = count, read
        self._texts: list[str] | None = None

    def _all(self) -> list[str]:
        if self._texts is None:
            self._texts = self._read()
        return self._texts

    def __getitem__(self, index):
        return self._all()[index]

    def __len__(self) -> int:
        return self._count

    def __iter__(self):
        return iter(self._all())


def _find(
    dedupers: Sequence[Deduper], scan: _Scan, masks: list[list[pa.Array]], scope: str
) -> dict[int, tuple[str, int, float]]:
    """Run the chain over the scope: removed position -> (deduper, kept position, similarity)."""
    removed: dict[int, tuple[str, int, float]] = {}
    for deduper in dedupers:
        start = 0
        for s, shard in enumerate(scan.groups):
            for g, light in enumerate(shard):
                mask = masks[s][g]
                part = light.filter(mask)
                if not part.num_rows:
                    continue
                positions: Sequence[int] = range(start, start + part.num_rows)
                start += part.num_rows
                if removed:
                    keep = [p not in removed for p in positions]
                    part = part.filter(pa.array(keep))
                    positions = [p for p, k in zip(positions, keep) if k]
                    # The rows of the row group the chain still holds, for their texts.
                    rows = pc.and_(mask, _expand(mask, keep))
                else:
                    rows = mask
                if part.num_rows:
                    read = lambda s=s, g=g, rows=rows: scan.texts(s, g, rows, scope)  # noqa: E731
                    with contained(who(type(deduper))):
                        deduper.add(
                            DedupBatch(
                                list(positions),
                                part.column("id").to_pylist(),
                                part.column("origin").to_pylist(),
                                _Texts(part.num_rows, read),
                            )
                        )
        with contained(who(type(deduper))):
            found = {d.position: d for d in deduper.duplicates()}
        for d in found.values():
            # A wrong report would silently drop the wrong items: fail naming the deduper.
            if not (0 <= d.kept < d.position < start) or d.position in removed or d.kept in removed or d.kept in found:
                raise ValueError(
                    f"deduper {deduper.name!r} reported item {d.position} as a duplicate of item {d.kept}; "
                    "a duplicate must point to an earlier item it kept, among the items it was given"
                )
            removed[d.position] = (deduper.name, d.kept, float(d.similarity))
    return removed


def _expand(mask: pa.Array, keep: list[bool]) -> pa.Array:
    """``keep`` (one flag per row ``mask`` selects) spread over all the rows of ``mask``."""
    flags = iter(keep)
    return pa.array([next(flags) if m else False for m in mask.to_pylist()], pa.bool_())


def run_dedup(
    shards: list[Path],
    out_dir: Path,
    make_dedupers: Callable[[], Sequence[Deduper]],
    scope: DedupScope = "separate",
    dpo_only: Sequence[Path] = (),
    twins: Mapping[str, Collection[str]] | None = None,
    shared_ids: Mapping[str, SharedIds] | None = None,
) -> dict:
    """Dedup ``shards`` (already in priority order) into ``out_dir``; ``make_dedupers`` gives a
    fresh chain per scope; ``scope = "shared"`` adds one set of known ids across both;
    ``dpo_only``: shards of builders whose pairs' ids no SFT item may have: with ``twins``
    (builder origin -> origins), only the items of those origins; without, of any origin;
    ``shared_ids``: the shared set's exceptions (:data:`SharedIds`). Returns the counts.

    The shards' texts are read once, by the last pass, which writes both scopes: the chains
    decide on ids and labels from one scan of the light columns (dedupers that compare texts
    read them per row group when they ask)."""
    shared_ids = shared_ids or {}
    by_origin: dict[str, Counter] = {}
    by_deduper: dict[str, dict[str, Counter]] = {}
    lost_to: dict[str, dict[str, Counter]] = {}

    def count(scope_: str, origin: str, name: str, kept_origin: str) -> None:
        by_origin.setdefault(origin, Counter())[scope_] += 1
        by_deduper.setdefault(origin, {}).setdefault(name, Counter())[scope_] += 1
        lost_to.setdefault(origin, {}).setdefault(name, Counter())[kept_origin] += 1

    blocked = dpo_only_pairs(dpo_only, twins)
    scan = _Scan.read(shards)
    if blocked:
        count_dpo_only(scan.groups, blocked, by_origin, by_deduper, lost_to)
    masks = {current: scan.masks(current, blocked) for current in SCOPES}
    owners, early = id_owners(scan.groups, masks["sft"], shared_ids) if scope == "shared" else ({}, set())
    removed: dict[str, dict[int, tuple[str, int, float]]] = {}
    for current in SCOPES:
        dedupers = make_dedupers()
        removed[current] = _find(dedupers, scan, masks[current], current) if dedupers else {}
    del scan
    needed = {current: {kept for _, kept, _ in r.values()} for current, r in removed.items()}
    kept_rows: dict[str, dict[int, tuple[str, str, str]]] = {
        current: {} for current in SCOPES
    }  # position -> id, origin, text
    start = dict.fromkeys(SCOPES, 0)
    # The report lists SFT removals, then DPO ones: the DPO ones (pairs are few) wait here.
    later: list[pa.Table] = []
    with (
        ParquetSink(out_dir / REPORT, REPORT_SCHEMA) as report,
        ParquetSink(out_dir / "sft.parquet", SCOPES["sft"]) as sft_sink,
        ParquetSink(out_dir / "dpo.parquet", SCOPES["dpo"]) as dpo_sink,
    ):
        sinks = {"sft": sft_sink, "dpo": dpo_sink}
        for s, shard in enumerate(shards):
            file = pq.ParquetFile(shard)
            for g in range(file.num_row_groups):
                table = file.read_row_group(g)
                for current in SCOPES:
                    part = table.filter(masks[current][s][g])
                    if not part.num_rows:
                        continue
                    gone, wanted = removed[current], needed[current]
                    positions = range(start[current], start[current] + part.num_rows)
                    start[current] += part.num_rows
                    hits = [i for i, p in enumerate(positions) if p in gone or p in wanted]
                    if hits:
                        # The texts of the report's rows only (most rows are neither).
                        hit = part.take(pa.array(hits, pa.int64()))
                        ids, origins, texts = (
                            hit.column("id").to_pylist(),
                            hit.column("origin").to_pylist(),
                            texts_of(hit, current),
                        )
                        rows = []
                        for j, i in enumerate(hits):
                            p = positions[i]
                            if p in wanted:
                                kept_rows[current][p] = (ids[j], origins[j], texts[j])
                            if p in gone:
                                name, kept, similarity = gone[p]
                                kept_id, kept_origin, kept_text = kept_rows[current][kept]
                                count(current, origins[j], name, kept_origin)
                                rows.append(
                                    (
                                        current,
                                        ids[j],
                                        origins[j],
                                        name,
                                        similarity,
                                        kept_id,
                                        kept_origin,
                                        texts[j],
                                        kept_text,
                                    )
                                )
                        found = pa.Table.from_pylist(
                            [dict(zip(REPORT_SCHEMA.names, r)) for r in rows], schema=REPORT_SCHEMA
                        )
                        if current == "sft":
                            report.write(found)
                        else:
                            later.append(found)
                        part = part.filter(pa.array([p not in gone for p in positions]))
                    if owners:
                        part = drop_owned_elsewhere(part, current, owners, count, shared_ids, early)
                    sinks[current].write(part)
        for found in later:
            report.write(found)
    counts = {
        origin: {
            "sft": c["sft"],
            "dpo": c["dpo"],
            "by_deduper": {
                name: {"sft": n["sft"], "dpo": n["dpo"], "lost_to": dict(sorted(lost_to[origin][name].items()))}
                for name, n in sorted(by_deduper[origin].items())
            },
        }
        for origin, c in sorted(by_origin.items())
    }
    return counts


@dataclass(frozen=True)
class DedupSettings:
    """How a run deduplicates, besides its chain of dedupers."""

    #: Folder of the dedupers' caches (one sub-folder per deduper).
    cache_root: Path
    #: ``separate``: SFT and DPO apart; ``shared``: also one set of ids (the reference).
    scope: DedupScope = "separate"
    #: The reference's rules a recipe turns on (:mod:`bagel_core.stages.reference_dedup`).
    rules: ReferenceRules = ReferenceRules()


@dataclass
class DedupStage(Stage):
    """Stage 2: the loads, in priority order, through the chain of dedupers."""

    name: ClassVar[str] = "dedup"
    loads: Sequence[Stage]
    #: Each deduper with its options, in chain order.
    dedupers: list[Configured]
    identities: Any
    settings: DedupSettings

    @property
    def inputs(self) -> Sequence[Stage]:  # type: ignore[override]
        return self.loads

    def key(self) -> Any:
        return [self.identities, self.settings.scope, *self.settings.rules.key(self.settings.scope)]

    def run(self, folder: Path, inputs: list[Path]) -> dict:
        from .load import SHARD

        shards = [f / SHARD for f in inputs]
        rules = self.settings.rules

        def make() -> list[Deduper]:
            made = []
            for d in self.dedupers:
                with contained(who(d.cls)):
                    made.append(d.cls(d.options, cache_dir=self.settings.cache_root / d.cls.name))
            return made

        return run_dedup(
            shards,
            folder,
            make,
            self.settings.scope,
            [shards[i] for i in rules.dpo_only],
            rules.twins,
            rules.shared_ids,
        )
