"""Stage 2: remove duplicates with the chain of selected dedupers (``--dedup exact,minhash``).

Items are numbered in priority order (shards come highest priority first, ties in the stable
order of components; rows in load order). Each deduper of the chain sees, in that order, the
items the previous ones kept, and reports duplicates of earlier kept items; so within a
cluster the item of the highest-priority source is kept, whatever ``--num-proc`` and however
the sources were listed.

SFT items and DPO pairs are deduplicated apart, each scope with its own instances of the
dedupers. ``scope = "shared"`` (``[run] dedup_scope``) adds the reference's single set of known
ids across both: the first item or pair of an id, in priority order, owns it, and an item of the
other scope with that id is dropped (counted under the pseudo-deduper ``shared-ids``), unless it
carries the owner's source label: an SFT item and a DPO pair of one label and id are one record
in two shapes (the airoboros rewrites, the cards' "both"), kept together.
``shared_ids`` (``[run] shared_ids``) gives the reference's exceptions to that set, per loader
name or source label: ``check`` (dropped when the other scope owns the id, owns none), ``add``
(owns ids, never dropped) or ``none`` (neither); a name it does not list does both.
``dpo_only`` names the shards of DPO builders whose pairs are DPO-only (``[run] dpo_only``): an
SFT item with the id of one of their pairs is removed before deduplication, whatever loads
first, counted under the pseudo-deduper ``dpo-only`` (the reference's lmsys-chat-1m).

Writes ``sft.parquet`` and ``dpo.parquet`` (the kept rows), ``near_duplicates.parquet`` (each
removed item beside the item it duplicates, with their similarity) and ``counts.json``.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable, Collection, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, ClassVar, Literal

import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.parquet as pq

from ..components import DedupBatch, Deduper
from ..containment import contained, who
from ..storage import ParquetSink, iter_batches
from . import DPO_WORK_SCHEMA, SFT_WORK_SCHEMA
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
DedupScope = Literal["separate", "shared"]
#: What a loader does with the ``shared`` set of known ids (see above); absent: both.
SharedIds = Literal["check", "add", "none"]
#: What the counts call an SFT item removed because a DPO-only pair has its id.
DPO_ONLY = "dpo-only"
#: What the counts call an item dropped because the other scope owns its id (``shared``).
SHARED_IDS = "shared-ids"


#: id of a DPO-only pair -> (the builder that made it, the origins whose SFT items with that id
#: it removes; ``None``: every origin).
Blocked = dict[str, tuple[str, frozenset[str] | None]]


def _is_blocked(item_id: str, origin: str, blocked: Blocked) -> bool:
    hit = blocked.get(item_id)
    return hit is not None and (hit[1] is None or origin in hit[1])


def _sft_mask(table: pa.Table, blocked: Blocked) -> pa.Array:
    """SFT records (of a scan's light columns) whose id no DPO-only pair of their own upstream has."""
    mask = table["is_sft"]
    if blocked:
        ids, origins = table.column("id").to_pylist(), table.column("origin").to_pylist()
        mask = pc.and_(mask, pa.array([not _is_blocked(i, o, blocked) for i, o in zip(ids, origins)], pa.bool_()))
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


def _pair_ids(shards: Sequence[Path], twins: Mapping[str, Collection[str]] | None = None) -> Blocked:
    """The DPO pairs of ``shards``: id -> (origin, the origins ``twins`` names for it)."""
    ids: Blocked = {}
    for shard in shards:
        for batch in iter_batches(shard, columns=["id", "origin", "prompt"]):
            table = pa.Table.from_batches([batch])
            table = table.filter(pc.is_valid(table["prompt"]))
            for item_id, origin in zip(table.column("id").to_pylist(), table.column("origin").to_pylist()):
                ids[item_id] = (origin, None if twins is None else frozenset(twins.get(origin, ())))
    return ids


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


def _count_dpo_only(scan: _Scan, blocked: Blocked, by_origin, by_deduper, lost_to) -> None:
    """Count the SFT records removed because a DPO-only pair has their id."""
    for shard in scan.groups:
        for light in shard:
            table = light.filter(light["is_sft"])
            for item_id, origin in zip(table.column("id").to_pylist(), table.column("origin").to_pylist()):
                if _is_blocked(item_id, origin, blocked):
                    by_origin.setdefault(origin, Counter())["sft"] += 1
                    by_deduper.setdefault(origin, {}).setdefault(DPO_ONLY, Counter())["sft"] += 1
                    lost_to.setdefault(origin, {}).setdefault(DPO_ONLY, Counter())[blocked[item_id][0]] += 1


def _role(shared_ids: Mapping[str, SharedIds], label: str, origin: str) -> str:
    """What an item of ``label`` from loader ``origin`` does with the shared set: check, add,
    none or both (its label is looked up first, then its loader)."""
    return shared_ids.get(label) or shared_ids.get(origin) or "both"


def _owners(
    scan: _Scan, sft_masks: list[list[pa.Array]], shared_ids: Mapping[str, SharedIds]
) -> tuple[dict[str, tuple[str, str, str]], set[tuple[str, str]]]:
    """``shared`` scope: id -> (scope, source label, origin) of its first item or pair that adds
    ids, in priority order, for the ids found in both scopes (only those can clash; DPO ids are
    few); and the (id, origin) of the items that only check and came before their id's owner
    (the set did not hold it yet when they checked)."""
    pair_ids: set[str] = set()
    for shard in scan.groups:
        for light in shard:
            pair_ids.update(light.filter(light["in_dpo"]).column("id").to_pylist())
    owners: dict[str, tuple[str, str, str]] = {}
    early: set[tuple[str, str]] = set()
    for shard, masks in zip(scan.groups, sft_masks):
        for light, mask in zip(shard, masks):
            sft, dpo = mask.to_pylist(), light["in_dpo"].to_pylist()
            for item_id, label, origin, s, d in zip(
                light.column("id").to_pylist(),
                light.column("source").to_pylist(),
                light.column("origin").to_pylist(),
                sft,
                dpo,
            ):
                if item_id not in pair_ids or item_id in owners or not (s or d):
                    continue
                role = _role(shared_ids, label, origin)
                if role in ("add", "both"):
                    owners[item_id] = ("both" if s and d else "sft" if s else "dpo", label, origin)
                elif role == "check":
                    early.add((item_id, origin))
    return owners, early


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

    blocked = _pair_ids(dpo_only, twins)
    scan = _Scan.read(shards)
    if blocked:
        _count_dpo_only(scan, blocked, by_origin, by_deduper, lost_to)
    masks = {current: scan.masks(current, blocked) for current in SCOPES}
    owners, early = _owners(scan, masks["sft"], shared_ids) if scope == "shared" else ({}, set())
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
                        part = _drop_owned_elsewhere(part, current, owners, count, shared_ids, early)
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


def _drop_owned_elsewhere(
    part: pa.Table,
    scope: str,
    owners: dict[str, tuple[str, str, str]],
    count,
    shared_ids: Mapping[str, SharedIds],
    early: set[tuple[str, str]],
) -> pa.Table:
    """``part`` without the rows whose id the other scope owns under another source label
    (rows of loaders that do not check the set, or checked it before the owner came, are kept)."""
    keep = []
    for item_id, label, origin in zip(
        part.column("id").to_pylist(), part.column("source").to_pylist(), part.column("origin").to_pylist()
    ):
        owner = owners.get(item_id)
        lost = (
            owner is not None
            and owner[0] not in (scope, "both")
            and owner[1] != label
            and _role(shared_ids, label, origin) in ("check", "both")
            and (item_id, origin) not in early
        )
        if lost and owner is not None:  # (lost implies an owner)
            count(scope, origin, SHARED_IDS, owner[2])
        keep.append(not lost)
    return part.filter(pa.array(keep, pa.bool_()))


@dataclass
class DedupStage(Stage):
    """Stage 2: the loads, in priority order, through the chain of dedupers."""

    name: ClassVar[str] = "dedup"
    loads: Sequence[Stage]
    #: ``(class, options)`` of each deduper, in chain order.
    dedupers: list
    identities: Any
    scope: DedupScope
    #: Indices into ``loads`` of the DPO builders whose pairs are DPO-only.
    dpo_only: list[int]
    cache_root: Path
    #: Per DPO-only builder, the loaders whose SFT items its pairs replace: those reading the
    #: same upstream data (lmsys-chat-1m-dpo -> lmsys_chat_1m), never unrelated sources.
    twins: dict[str, list[str]] = field(default_factory=dict)
    #: The shared set's exceptions per loader name or source label (``[run] shared_ids``).
    shared_ids: dict[str, SharedIds] = field(default_factory=dict)

    @property
    def inputs(self) -> Sequence[Stage]:  # type: ignore[override]
        return self.loads

    def key(self) -> Any:
        # shared_ids joins the key only when set, so earlier dedup caches stay valid.
        extra = [dict(sorted(self.shared_ids.items()))] if self.shared_ids and self.scope == "shared" else []
        return [self.identities, self.scope, self.dpo_only, self.twins, *extra]

    def run(self, folder: Path, inputs: list[Path]) -> dict:
        from .load import SHARD

        shards = [f / SHARD for f in inputs]

        def make() -> list[Deduper]:
            made = []
            for cls, options in self.dedupers:
                with contained(who(cls)):
                    made.append(cls(options, cache_dir=self.cache_root / cls.name))
            return made

        return run_dedup(
            shards, folder, make, self.scope, [shards[i] for i in self.dpo_only], self.twins, self.shared_ids
        )
