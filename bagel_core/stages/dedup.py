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
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Callable, ClassVar, Collection, Iterator, Literal, Mapping, Optional, Sequence

import pyarrow as pa
import pyarrow.compute as pc

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
READ_COLUMNS = ["id", "origin", "conversations", "text", "prompt"]
DedupScope = Literal["separate", "shared"]
#: What a loader does with the ``shared`` set of known ids (see above); absent: both.
SharedIds = Literal["check", "add", "none"]
#: What the counts call an SFT item removed because a DPO-only pair has its id.
DPO_ONLY = "dpo-only"
#: What the counts call an item dropped because the other scope owns its id (``shared``).
SHARED_IDS = "shared-ids"


def _is_sft(table: pa.Table) -> pa.Array:
    return pc.or_(pc.is_valid(table["conversations"]), pc.is_valid(table["text"]))


#: id of a DPO-only pair -> (the builder that made it, the origins whose SFT items with that id
#: it removes; ``None``: every origin).
Blocked = dict[str, tuple[str, Optional[frozenset[str]]]]


def _is_blocked(item_id: str, origin: str, blocked: Blocked) -> bool:
    hit = blocked.get(item_id)
    return hit is not None and (hit[1] is None or origin in hit[1])


def _sft_mask(table: pa.Table, blocked: Blocked) -> pa.Array:
    """SFT records whose id no DPO-only pair of their own upstream has."""
    mask = _is_sft(table)
    if blocked:
        ids, origins = table.column("id").to_pylist(), table.column("origin").to_pylist()
        mask = pc.and_(mask, pa.array([not _is_blocked(i, o, blocked) for i, o in zip(ids, origins)], pa.bool_()))
    return mask


def _in_scope(table: pa.Table, scope: str, blocked: Blocked) -> pa.Table:
    if scope == "sft":
        return table.filter(_sft_mask(table, blocked))
    return table.filter(pc.is_valid(table["prompt"]))


def _parts(shards: Sequence[Path], scope: str, blocked: Blocked, columns=None) -> Iterator[pa.Table]:
    """The scope's rows of every shard, in priority order, a batch at a time."""
    for shard in shards:
        for batch in iter_batches(shard, columns=columns):
            part = _in_scope(pa.Table.from_batches([batch]), scope, blocked)
            if part.num_rows:
                yield part


def _pair_ids(shards: Sequence[Path], twins: Optional[Mapping[str, Collection[str]]] = None) -> Blocked:
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

    def __init__(self, part: pa.Table, scope: str) -> None:
        self._part, self._scope, self._texts = part, scope, None

    def _all(self) -> list[str]:
        if self._texts is None:
            self._texts = texts_of(self._part, self._scope)
        return self._texts

    def __getitem__(self, index):
        return self._all()[index]

    def __len__(self) -> int:
        return self._part.num_rows

    def __iter__(self):
        return iter(self._all())


def _find(dedupers: Sequence[Deduper], shards: Sequence[Path], scope: str, blocked: Blocked) -> dict[int, tuple[str, int, float]]:
    """Run the chain over the scope: removed position -> (deduper, kept position, similarity)."""
    removed: dict[int, tuple[str, int, float]] = {}
    for deduper in dedupers:
        start = 0
        for part in _parts(shards, scope, blocked, READ_COLUMNS):
            positions = range(start, start + part.num_rows)
            start += part.num_rows
            if removed:
                keep = [p not in removed for p in positions]
                part = part.filter(pa.array(keep))
                positions = [p for p, k in zip(positions, keep) if k]
            if part.num_rows:
                with contained(who(type(deduper))):
                    deduper.add(DedupBatch(list(positions), part.column("id").to_pylist(), part.column("origin").to_pylist(), _Texts(part, scope)))
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


def _count_dpo_only(shards: Sequence[Path], blocked: Blocked, by_origin, by_deduper, lost_to) -> None:
    """Count the SFT records removed because a DPO-only pair has their id."""
    for shard in shards:
        for batch in iter_batches(shard, columns=["id", "origin", "conversations", "text"]):
            table = pa.Table.from_batches([batch])
            table = table.filter(_is_sft(table))
            for item_id, origin in zip(table.column("id").to_pylist(), table.column("origin").to_pylist()):
                if _is_blocked(item_id, origin, blocked):
                    by_origin.setdefault(origin, Counter())["sft"] += 1
                    by_deduper.setdefault(origin, {}).setdefault(DPO_ONLY, Counter())["sft"] += 1
                    lost_to.setdefault(origin, {}).setdefault(DPO_ONLY, Counter())[blocked[item_id][0]] += 1


def _role(shared_ids: Mapping[str, SharedIds], label: str, origin: str) -> str:
    """What an item of ``label`` from loader ``origin`` does with the shared set: check, add,
    none or both (its label is looked up first, then its loader)."""
    return shared_ids.get(label) or shared_ids.get(origin) or "both"


def _owners(shards: Sequence[Path], blocked: Blocked, shared_ids: Mapping[str, SharedIds]) -> tuple[dict[str, tuple[str, str, str]], set[tuple[str, str]]]:
    """``shared`` scope: id -> (scope, source label, origin) of its first item or pair that adds
    ids, in priority order, for the ids found in both scopes (only those can clash; DPO ids are
    few); and the (id, origin) of the items that only check and came before their id's owner
    (the set did not hold it yet when they checked)."""
    pair_ids: set[str] = set()
    for part in _parts(shards, "dpo", blocked, ["id", "prompt"]):
        pair_ids.update(part.column("id").to_pylist())
    owners: dict[str, tuple[str, str, str]] = {}
    early: set[tuple[str, str]] = set()
    for shard in shards:
        for batch in iter_batches(shard, columns=["id", "source", "origin", "conversations", "text", "prompt"]):
            table = pa.Table.from_batches([batch])
            sft, dpo = _sft_mask(table, blocked).to_pylist(), pc.is_valid(table["prompt"]).to_pylist()
            for item_id, label, origin, s, d in zip(table.column("id").to_pylist(), table.column("source").to_pylist(), table.column("origin").to_pylist(), sft, dpo):
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
    twins: Optional[Mapping[str, Collection[str]]] = None,
    shared_ids: Optional[Mapping[str, SharedIds]] = None,
) -> dict:
    """Dedup ``shards`` (already in priority order) into ``out_dir``; ``make_dedupers`` gives a
    fresh chain per scope; ``scope = "shared"`` adds one set of known ids across both;
    ``dpo_only``: shards of builders whose pairs' ids no SFT item may have: with ``twins``
    (builder origin -> origins), only the items of those origins; without, of any origin;
    ``shared_ids``: the shared set's exceptions (:data:`SharedIds`). Returns the counts."""
    shared_ids = shared_ids or {}
    by_origin: dict[str, Counter] = {}
    by_deduper: dict[str, dict[str, Counter]] = {}
    lost_to: dict[str, dict[str, Counter]] = {}

    def count(scope_: str, origin: str, name: str, kept_origin: str) -> None:
        by_origin.setdefault(origin, Counter())[scope_] += 1
        by_deduper.setdefault(origin, {}).setdefault(name, Counter())[scope_] += 1
        lost_to.setdefault(origin, {}).setdefault(name, Counter())[kept_origin] += 1

    blocked = _pair_ids(dpo_only, twins)
    if blocked:
        _count_dpo_only(shards, blocked, by_origin, by_deduper, lost_to)
    owners, early = _owners(shards, blocked, shared_ids) if scope == "shared" else ({}, set())
    with ParquetSink(out_dir / REPORT, REPORT_SCHEMA) as report:
        for current, schema in SCOPES.items():
            dedupers = make_dedupers()
            removed = _find(dedupers, shards, current, blocked) if dedupers else {}
            needed = {kept for _, kept, _ in removed.values()}
            kept_rows: dict[int, tuple[str, str, str]] = {}  # position -> id, origin, text
            start = 0
            with ParquetSink(out_dir / f"{current}.parquet", schema) as sink:
                for part in _parts(shards, current, blocked):
                    positions = range(start, start + part.num_rows)
                    start += part.num_rows
                    hits = [i for i, p in enumerate(positions) if p in removed or p in needed]
                    if hits:
                        ids, origins, texts = part.column("id").to_pylist(), part.column("origin").to_pylist(), texts_of(part, current)
                        rows = []
                        for i in hits:
                            p = positions[i]
                            if p in needed:
                                kept_rows[p] = (ids[i], origins[i], texts[i])
                            if p in removed:
                                name, kept, similarity = removed[p]
                                kept_id, kept_origin, kept_text = kept_rows[kept]
                                count(current, origins[i], name, kept_origin)
                                rows.append((current, ids[i], origins[i], name, similarity, kept_id, kept_origin, texts[i], kept_text))
                        report.write(pa.Table.from_pylist([dict(zip(REPORT_SCHEMA.names, r)) for r in rows], schema=REPORT_SCHEMA))
                        part = part.filter(pa.array([p not in removed for p in positions]))
                    if owners:
                        part = _drop_owned_elsewhere(part, current, owners, count, shared_ids, early)
                    sink.write(part)
    counts = {
        origin: {
            "sft": c["sft"],
            "dpo": c["dpo"],
            "by_deduper": {name: {"sft": n["sft"], "dpo": n["dpo"], "lost_to": dict(sorted(lost_to[origin][name].items()))} for name, n in sorted(by_deduper[origin].items())},
        }
        for origin, c in sorted(by_origin.items())
    }
    return counts


def _drop_owned_elsewhere(part: pa.Table, scope: str, owners: dict[str, tuple[str, str, str]], count, shared_ids: Mapping[str, SharedIds], early: set[tuple[str, str]]) -> pa.Table:
    """``part`` without the rows whose id the other scope owns under another source label
    (rows of loaders that do not check the set, or checked it before the owner came, are kept)."""
    keep = []
    for item_id, label, origin in zip(part.column("id").to_pylist(), part.column("source").to_pylist(), part.column("origin").to_pylist()):
        owner = owners.get(item_id)
        lost = owner is not None and owner[0] not in (scope, "both") and owner[1] != label and _role(shared_ids, label, origin) in ("check", "both") and (item_id, origin) not in early
        if lost:
            count(scope, origin, SHARED_IDS, owner[2])
        keep.append(not lost)
    return part.filter(pa.array(keep, pa.bool_()))


@dataclass
class DedupStage(Stage):
    """Stage 2: the loads, in priority order, through the chain of dedupers."""

    name: ClassVar[str] = "dedup"
    loads: list[Stage]
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
    def inputs(self) -> list[Stage]:  # type: ignore[override]
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

        return run_dedup(shards, folder, make, self.scope, [shards[i] for i in self.dpo_only], self.twins, self.shared_ids)
