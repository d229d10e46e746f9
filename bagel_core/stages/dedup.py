"""Stage 2: remove duplicates with the chain of selected dedupers (``--dedup exact,minhash``).

Items are numbered in priority order (shards come highest priority first, ties in the stable
order of components; rows in load order). Each deduper of the chain sees, in that order, the
items the previous ones kept, and reports duplicates of earlier kept items; so within a
cluster the item of the highest-priority source is kept, whatever ``--num-proc`` and however
the sources were listed.

``scope`` (``[run] dedup_scope``): ``separate`` (default) deduplicates SFT items and DPO pairs
apart, each with its own instances of the dedupers; ``shared`` runs one chain over both, as the
reference's single set of known ids: a DPO pair whose prompt a higher-priority SFT item took is
dropped, and the other way round (a record that is both, as the airoboros rewrites, is one item).
``dpo_only`` names the shards of DPO builders whose pairs are DPO-only (``[run] dpo_only``): an
SFT item with the id of one of their pairs is removed before deduplication, whatever loads
first, counted under the pseudo-deduper ``dpo-only`` (the reference's lmsys-chat-1m).

Writes ``sft.parquet`` and ``dpo.parquet`` (the kept rows), ``near_duplicates.parquet`` (each
removed item beside the item it duplicates, with their similarity) and ``counts.json``.
"""

from __future__ import annotations

from collections import Counter
from pathlib import Path
from typing import Callable, Iterator, Literal, Sequence

import pyarrow as pa
import pyarrow.compute as pc

from ..components import DedupBatch, Deduper
from ..storage import ParquetSink, iter_batches, read_json, write_json
from . import DPO_WORK_SCHEMA, SFT_WORK_SCHEMA

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
#: What the counts call an SFT item removed because a DPO-only pair has its id.
DPO_ONLY = "dpo-only"


def _is_sft(table: pa.Table) -> pa.Array:
    return pc.or_(pc.is_valid(table["conversations"]), pc.is_valid(table["text"]))


def _sft_mask(table: pa.Table, blocked: dict[str, str]) -> pa.Array:
    """SFT records whose id no DPO-only pair has."""
    mask = _is_sft(table)
    if blocked:
        mask = pc.and_(mask, pa.array([i not in blocked for i in table.column("id").to_pylist()], pa.bool_()))
    return mask


def _in_scope(table: pa.Table, scope: str, blocked: dict[str, str]) -> pa.Table:
    if scope == "sft":
        return table.filter(_sft_mask(table, blocked))
    if scope == "dpo":
        return table.filter(pc.is_valid(table["prompt"]))
    return table.filter(pc.or_(_sft_mask(table, blocked), pc.is_valid(table["prompt"])))  # "all"


def _parts(shards: Sequence[Path], scope: str, blocked: dict[str, str], columns=None) -> Iterator[pa.Table]:
    """The scope's rows of every shard, in priority order, a batch at a time."""
    for shard in shards:
        for batch in iter_batches(shard, columns=columns):
            part = _in_scope(pa.Table.from_batches([batch]), scope, blocked)
            if part.num_rows:
                yield part


def _pair_ids(shards: Sequence[Path]) -> dict[str, str]:
    """id -> origin of the DPO pairs in ``shards``."""
    ids: dict[str, str] = {}
    for shard in shards:
        for batch in iter_batches(shard, columns=["id", "origin", "prompt"]):
            table = pa.Table.from_batches([batch])
            table = table.filter(pc.is_valid(table["prompt"]))
            ids.update(zip(table.column("id").to_pylist(), table.column("origin").to_pylist()))
    return ids


def texts_of(part: pa.Table, scope: str) -> list[str]:
    """What dedupers compare: an SFT item's human turns joined by a newline (the text its id
    is made from), its plain text when it has no conversation; a DPO pair's prompt (in the
    ``all`` scope of ``shared`` dedup, the prompt of a record that is only a DPO pair)."""
    if scope == "dpo":
        return part.column("prompt").to_pylist()
    if scope == "all":
        sft = texts_of(part, "sft")
        only_dpo = pc.invert(_is_sft(part)).to_pylist()
        return [p if d else t for t, p, d in zip(sft, part.column("prompt").to_pylist(), only_dpo)]
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


def _find(dedupers: Sequence[Deduper], shards: Sequence[Path], scope: str, blocked: dict[str, str]) -> dict[int, tuple[str, int, float]]:
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
                deduper.add(DedupBatch(list(positions), part.column("id").to_pylist(), part.column("origin").to_pylist(), _Texts(part, scope)))
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


def _count_dpo_only(shards: Sequence[Path], blocked: dict[str, str], by_origin, by_deduper, lost_to) -> None:
    """Count the SFT records removed because a DPO-only pair has their id."""
    for shard in shards:
        for batch in iter_batches(shard, columns=["id", "origin", "conversations", "text"]):
            table = pa.Table.from_batches([batch])
            table = table.filter(_is_sft(table))
            for item_id, origin in zip(table.column("id").to_pylist(), table.column("origin").to_pylist()):
                if item_id in blocked:
                    by_origin.setdefault(origin, Counter())["sft"] += 1
                    by_deduper.setdefault(origin, {}).setdefault(DPO_ONLY, Counter())["sft"] += 1
                    lost_to.setdefault(origin, {}).setdefault(DPO_ONLY, Counter())[blocked[item_id]] += 1


def run_dedup(
    shards: list[Path],
    out_dir: Path,
    make_dedupers: Callable[[], Sequence[Deduper]],
    scope: DedupScope = "separate",
    dpo_only: Sequence[Path] = (),
) -> dict:
    """Dedup ``shards`` (already in priority order) into ``out_dir``; ``make_dedupers`` gives a
    fresh chain per scope (one for both under ``shared``); ``dpo_only``: shards of builders whose
    pairs' ids no SFT item may have. Returns the counts (also in ``out_dir/counts.json``)."""
    counts_path = out_dir / "counts.json"
    if counts_path.exists():
        return read_json(counts_path)
    by_origin: dict[str, Counter] = {}
    by_deduper: dict[str, dict[str, Counter]] = {}
    lost_to: dict[str, dict[str, Counter]] = {}
    blocked = _pair_ids(dpo_only)
    if blocked:
        _count_dpo_only(shards, blocked, by_origin, by_deduper, lost_to)
    passes = ["all"] if scope == "shared" else list(SCOPES)
    with ParquetSink(out_dir / REPORT, REPORT_SCHEMA) as report, ParquetSink(out_dir / "sft.parquet", SCOPES["sft"]) as sft_sink, ParquetSink(out_dir / "dpo.parquet", SCOPES["dpo"]) as dpo_sink:
        sinks = {"sft": sft_sink, "dpo": dpo_sink}
        for current in passes:
            dedupers = make_dedupers()
            removed = _find(dedupers, shards, current, blocked) if dedupers else {}
            needed = {kept for _, kept, _ in removed.values()}
            kept_rows: dict[int, tuple[str, str, str]] = {}  # position -> id, origin, text
            start = 0
            for part in _parts(shards, current, blocked):
                positions = range(start, start + part.num_rows)
                start += part.num_rows
                hits = [i for i, p in enumerate(positions) if p in removed or p in needed]
                if hits:
                    ids, origins, texts = part.column("id").to_pylist(), part.column("origin").to_pylist(), texts_of(part, current)
                    kinds = _kinds(part, current, blocked)
                    rows = []
                    for i in hits:
                        p = positions[i]
                        if p in needed:
                            kept_rows[p] = (ids[i], origins[i], texts[i])
                        if p in removed:
                            name, kept, similarity = removed[p]
                            kept_id, kept_origin, kept_text = kept_rows[kept]
                            for kind in kinds[i]:
                                by_origin.setdefault(origins[i], Counter())[kind] += 1
                                by_deduper.setdefault(origins[i], {}).setdefault(name, Counter())[kind] += 1
                            lost_to.setdefault(origins[i], {}).setdefault(name, Counter())[kept_origin] += 1
                            rows.append((kinds[i][0], ids[i], origins[i], name, similarity, kept_id, kept_origin, texts[i], kept_text))
                    report.write(pa.Table.from_pylist([dict(zip(REPORT_SCHEMA.names, r)) for r in rows], schema=REPORT_SCHEMA))
                    part = part.filter(pa.array([p not in removed for p in positions]))
                if current == "all":
                    sft_sink.write(part.filter(_sft_mask(part, blocked)))
                    dpo_sink.write(part.filter(pc.is_valid(part["prompt"])))
                else:
                    sinks[current].write(part)
    counts = {
        origin: {
            "sft": c["sft"],
            "dpo": c["dpo"],
            "by_deduper": {name: {"sft": n["sft"], "dpo": n["dpo"], "lost_to": dict(sorted(lost_to[origin][name].items()))} for name, n in sorted(by_deduper[origin].items())},
        }
        for origin, c in sorted(by_origin.items())
    }
    write_json(counts_path, counts)
    return counts


def _kinds(part: pa.Table, scope: str, blocked: dict[str, str]) -> list[tuple[str, ...]]:
    """Per row, the outputs it belongs to: ``("sft",)``, ``("dpo",)`` or both (``all`` scope)."""
    if scope != "all":
        return [(scope,)] * part.num_rows
    sft = _sft_mask(part, blocked).to_pylist()
    dpo = pc.is_valid(part["prompt"]).to_pylist()
    return [tuple(k for k, on in (("sft", s), ("dpo", d)) if on) for s, d in zip(sft, dpo)]
