"""The reference's dedup rules, reachable from a recipe (``[run]``) and off by default: the
generic dedup stage (:mod:`bagel_core.stages.dedup`) calls them where they apply.

SFT items and DPO pairs are deduplicated apart by default. ``scope = "shared"`` (``[run] dedup_scope``) adds the reference's single set of known
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
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Collection, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal

import pyarrow as pa
import pyarrow.compute as pc

from ..options import ConfigError
from ..storage import iter_batches

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


#: Per shard, per row group, the light columns of a dedup scan: id, source, origin, is_sft, in_dpo.
Scanned = list[list[pa.Table]]


def is_blocked(item_id: str, origin: str, blocked: Blocked) -> bool:
    hit = blocked.get(item_id)
    return hit is not None and (hit[1] is None or origin in hit[1])


def dpo_only_pairs(shards: Sequence[Path], twins: Mapping[str, Collection[str]] | None = None) -> Blocked:
    """The DPO pairs of ``shards``: id -> (origin, the origins ``twins`` names for it)."""
    ids: Blocked = {}
    for shard in shards:
        for batch in iter_batches(shard, columns=["id", "origin", "prompt"]):
            table = pa.Table.from_batches([batch])
            table = table.filter(pc.is_valid(table["prompt"]))
            for item_id, origin in zip(table.column("id").to_pylist(), table.column("origin").to_pylist()):
                ids[item_id] = (origin, None if twins is None else frozenset(twins.get(origin, ())))
    return ids


def count_dpo_only(
    groups: Scanned,
    blocked: Blocked,
    by_origin: dict[str, Counter],
    by_deduper: dict[str, dict[str, Counter]],
    lost_to: dict[str, dict[str, Counter]],
) -> None:
    """Count the SFT records removed because a DPO-only pair has their id."""
    for shard in groups:
        for light in shard:
            table = light.filter(light["is_sft"])
            for item_id, origin in zip(table.column("id").to_pylist(), table.column("origin").to_pylist()):
                if is_blocked(item_id, origin, blocked):
                    by_origin.setdefault(origin, Counter())["sft"] += 1
                    by_deduper.setdefault(origin, {}).setdefault(DPO_ONLY, Counter())["sft"] += 1
                    lost_to.setdefault(origin, {}).setdefault(DPO_ONLY, Counter())[blocked[item_id][0]] += 1


def role_of(shared_ids: Mapping[str, SharedIds], label: str, origin: str) -> str:
    """What an item of ``label`` from loader ``origin`` does with the shared set: check, add,
    none or both (its label is looked up first, then its loader)."""
    return shared_ids.get(label) or shared_ids.get(origin) or "both"


def id_owners(
    groups: Scanned, sft_masks: list[list[pa.Array]], shared_ids: Mapping[str, SharedIds]
) -> tuple[dict[str, tuple[str, str, str]], set[tuple[str, str]]]:
    """``shared`` scope: id -> (scope, source label, origin) of its first item or pair that adds
    ids, in priority order, for the ids found in both scopes (only those can clash; DPO ids are
    few); and the (id, origin) of the items that only check and came before their id's owner
    (the set did not hold it yet when they checked)."""
    pair_ids: set[str] = set()
    for shard in groups:
        for light in shard:
            pair_ids.update(light.filter(light["in_dpo"]).column("id").to_pylist())
    owners: dict[str, tuple[str, str, str]] = {}
    early: set[tuple[str, str]] = set()
    for shard, masks in zip(groups, sft_masks):
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
                role = role_of(shared_ids, label, origin)
                if role in ("add", "both"):
                    owners[item_id] = ("both" if s and d else "sft" if s else "dpo", label, origin)
                elif role == "check":
                    early.add((item_id, origin))
    return owners, early


def drop_owned_elsewhere(
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
            and role_of(shared_ids, label, origin) in ("check", "both")
            and (item_id, origin) not in early
        )
        if lost and owner is not None:  # lost implies an owner; said again for the type checker
            count(scope, origin, SHARED_IDS, owner[2])
        keep.append(not lost)
    return part.filter(pa.array(keep, pa.bool_()))


def check_rules(
    dpo_only: Collection[str], shared_ids: Mapping[str, SharedIds], builders: Sequence[str], installed: Sequence[str]
) -> None:
    """The recipe's ``dpo_only`` names selected DPO ``builders``, and each ``shared_ids`` key an
    ``installed`` loader or one of its source labels; a ConfigError naming the others."""
    missing = [name for name in dpo_only if name not in builders]
    if missing:
        raise ConfigError(f"[run] dpo_only names {missing}, not among the selected DPO builders {sorted(builders)}")
    # A key is a loader's name or one of its source labels (cinematika_memories, glaive-func);
    # installed loaders that are not selected are fine (a recipe run with fewer sources).
    unknown = [
        k for k in shared_ids if not any(k in (n, n.replace("_", "-")) or k.startswith(f"{n}_") for n in installed)
    ]
    if unknown:
        raise ConfigError(
            f"[run] shared_ids names {unknown}, neither an installed source or DPO builder nor one of its source labels"
        )


@dataclass(frozen=True)
class ReferenceRules:
    """The reference's rules a run turns on, in the order of its loads (highest priority first)."""

    #: Indices into the loads of the DPO builders whose pairs are DPO-only (``[run] dpo_only``).
    dpo_only: list[int] = field(default_factory=list)
    #: Per DPO-only builder, the loaders whose SFT items its pairs replace: those reading the
    #: same upstream data (lmsys-chat-1m-dpo -> lmsys_chat_1m), never unrelated sources.
    twins: dict[str, list[str]] = field(default_factory=dict)
    #: The shared set's exceptions per loader name or source label (``[run] shared_ids``).
    shared_ids: dict[str, SharedIds] = field(default_factory=dict)

    @classmethod
    def of(
        cls, loaders: Sequence[Any], dpo_only: Collection[str], shared_ids: Mapping[str, SharedIds]
    ) -> ReferenceRules:
        """The rules for ``loaders`` (component classes, in load order) and the recipe's
        ``dpo_only`` builder names and ``shared_ids``."""
        only = [i for i, c in enumerate(loaders) if c.kind == "dpo_builder" and c.name in dpo_only]
        twins = {
            loaders[i].name: [
                c.name for c in loaders if c.kind == "source" and set(c.dataset_ids) & set(loaders[i].dataset_ids)
            ]
            for i in only
        }
        return cls(only, twins, dict(shared_ids))

    def key(self, scope: DedupScope) -> list[Any]:
        """What of the rules the dedup output depends on, as the dedup stage's key had it."""
        # shared_ids joins the key only when set, so earlier dedup caches stay valid.
        extra = [dict(sorted(self.shared_ids.items()))] if self.shared_ids and scope == "shared" else []
        return [self.dpo_only, self.twins, *extra]
