"""``bagel run --plan``: the mixture a run would write, counted before anything is rendered.

The plan loads and deduplicates (the same cached stages a run uses, so the run that follows
reuses them) and counts, per component, the upstream rows it read, what its filters and caps
removed, the items left after dedup, and the rows each format would get: one per assistant turn
of an SFT item, one per DPO pair, plain texts once; with ``copies_per_item`` k < n formats, in
the formats the render stage would deal each item (the same seeded deal). Decontamination is
not run and not estimated: every count is before it, and a run with decontaminators removes
more (how many depends on the data; the run's manifest has the final counts).

Compare with the cards: the v0.1 card counts 1,671,822 items (1,602,217 SFT, 59,247 DPO, 1,606
both) after dedup and decontamination.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import Any

import pyarrow as pa
import pyarrow.compute as pc

from .context import LoadCounts
from .rendering import PLAIN_TEXT, FormatAssignment, dealt_formats
from .storage import iter_batches


def _items(shard: Path, kind: str) -> tuple[list[str], list[str], list[int], dict[str, int]]:
    """``(ids, origins, rows per format)`` of the dealt items of a dedup output (an SFT item
    has a row per assistant turn, a DPO pair one), and plain texts per origin."""
    ids: list[str] = []
    origins: list[str] = []
    rows: list[int] = []
    plain: dict[str, int] = {}
    columns = ["id", "origin", "conversations", "text"] if kind == "sft" else ["id", "origin"]
    for batch in iter_batches(shard, columns=columns):
        table = pa.Table.from_batches([batch])
        batch_ids, batch_origins = table.column("id").to_pylist(), table.column("origin").to_pylist()
        if kind == "dpo":
            ids += batch_ids
            origins += batch_origins
            rows += [1] * table.num_rows
            continue
        conversations = table.column("conversations").combine_chunks()
        turns = pc.list_flatten(conversations)
        answers = [0] * table.num_rows
        for parent in pc.list_parent_indices(conversations).filter(pc.equal(turns.field("from"), "gpt")).to_pylist():
            answers[parent] += 1
        for item_id, origin, n, is_text in zip(
            batch_ids, batch_origins, answers, table.column("text").is_valid().to_pylist()
        ):
            if is_text:
                plain[origin] = plain.get(origin, 0) + 1
            else:
                ids.append(item_id)
                origins.append(origin)
                rows.append(n)
    return ids, origins, rows, plain


def _rows_per_format(
    shard: Path, kind: str, formats: Sequence[str], seed: int, copies: int | None, assignment: FormatAssignment
):
    """Per origin: items, and rows per format (plus plain texts under ``PLAIN_TEXT``)."""
    ids, origins, rows, plain = _items(shard, kind)
    per: dict[str, dict[str, int]] = {}
    for origin, n, which in zip(
        origins, rows, dealt_formats(ids, seed, copies, len(formats), assignment, in_order=kind == "dpo")
    ):
        entry = per.setdefault(origin, dict.fromkeys(["items", *formats, PLAIN_TEXT], 0))
        entry["items"] += 1
        for index in which:
            entry[formats[index]] += n
    for origin, n in plain.items():
        entry = per.setdefault(origin, dict.fromkeys(["items", *formats, PLAIN_TEXT], 0))
        entry["items"] += n
        entry[PLAIN_TEXT] += n
    return per


def _ids(shard: Path) -> set[str]:
    return {i for batch in iter_batches(shard, columns=["id"]) for i in batch.column(0).to_pylist()}


def mixture_plan(
    loaders: Sequence[Any],
    counts: Sequence[LoadCounts],
    duplicates: dict[str, Any],
    dedup_dir: Path,
    formats: Sequence[str],
    seed: int,
    copies_per_item: int | None,
    assignment: FormatAssignment,
    global_cap: tuple[int, int] | None = None,
    decontaminators: Sequence[str] = (),
) -> dict[str, Any]:
    """The plan as JSON-able data: ``sources`` (per component) and ``totals``, counted before
    the run's ``decontaminators`` (names) would remove anything."""
    deal = (formats, seed, copies_per_item, assignment)
    sft = _rows_per_format(dedup_dir / "sft.parquet", "sft", *deal)
    dpo = _rows_per_format(dedup_dir / "dpo.parquet", "dpo", *deal)
    empty = dict.fromkeys(["items", *formats, PLAIN_TEXT], 0)
    sources: dict[str, Any] = {}
    for s, c in zip(loaders, counts):
        name = s.cls.name
        own, pairs = sft.get(name, empty), dpo.get(name, empty)
        dups = duplicates.get(name, {})
        settings = getattr(s, "settings", None)
        sources[name] = {
            "kind": s.cls.kind,
            "priority": s.priority,
            # The cap the load stage applied: at most this many items (per stratum when
            # cap_per_stratum), a seeded sample.
            "max_items": settings.max_items if settings else None,
            "cap_per_stratum": bool(getattr(s.cls, "cap_per_stratum", False)),
            # Every row the component read: the records it kept, rejected and filtered out (a
            # row that gives several records, as a chapterized book, counts each).
            "upstream_rows": c.loaded + sum(c.rejected.values()) + sum(c.filtered.values()),
            "rejected": dict(sorted(c.rejected.items())),
            "filtered": dict(sorted(c.filtered.items())),
            "loaded": c.loaded,
            "duplicates": dups.get("sft", 0) + dups.get("dpo", 0),
            "sft_items": own["items"],
            "plain_texts": own[PLAIN_TEXT],
            "dpo_pairs": pairs["items"],
            "rows": {f: own[f] + pairs[f] for f in [*formats, PLAIN_TEXT]},
        }
    both = len(_ids(dedup_dir / "sft.parquet") & _ids(dedup_dir / "dpo.parquet"))
    sft_items = sum(v["sft_items"] for v in sources.values())
    dpo_pairs = sum(v["dpo_pairs"] for v in sources.values())
    totals = {
        "upstream_rows": sum(v["upstream_rows"] for v in sources.values()),
        "loaded": sum(v["loaded"] for v in sources.values()),
        "duplicates": sum(v["duplicates"] for v in sources.values()),
        # The cards' way: an id that is both an SFT item and a DPO pair is one item.
        "items": sft_items + dpo_pairs - both,
        "sft_items": sft_items,
        "dpo_pairs": dpo_pairs,
        "both": both,
        "rows": {f: sum(v["rows"][f] for v in sources.values()) for f in [*formats, PLAIN_TEXT]},
    }
    return {
        "formats": list(formats),
        "copies_per_item": copies_per_item,
        "format_assignment": assignment,
        "global_cap": list(global_cap) if global_cap else None,
        "decontaminators": list(decontaminators),
        "sources": sources,
        "totals": totals,
    }


def plan_table(plan: dict[str, Any]) -> str:
    """The plan as a text table, one line per component and a total."""
    formats = plan["formats"]
    header = [
        "source",
        "prio",
        "upstream",
        "cap",
        "filtered (reason: n)",
        "dups",
        "sft items",
        "dpo pairs",
        *formats,
        PLAIN_TEXT,
    ]
    rows = []
    for name, s in plan["sources"].items():
        filtered = ", ".join(f"{k}: {v}" for k, v in s["filtered"].items()) or "-"
        cap = "-" if s["max_items"] is None else f"{s['max_items']:,}" + ("/stratum" if s["cap_per_stratum"] else "")
        rows.append(
            [
                name,
                s["priority"],
                s["upstream_rows"],
                cap,
                filtered,
                s["duplicates"],
                s["sft_items"],
                s["dpo_pairs"],
                *(s["rows"][f] for f in formats),
                s["rows"][PLAIN_TEXT],
            ]
        )
    t = plan["totals"]
    rows.append(
        [
            "TOTAL",
            "",
            t["upstream_rows"],
            "",
            "",
            t["duplicates"],
            t["sft_items"],
            t["dpo_pairs"],
            *(t["rows"][f] for f in formats),
            t["rows"][PLAIN_TEXT],
        ]
    )
    widths = [max(len(str(r[i])) for r in [header, *rows]) for i in range(len(header))]

    def line(r):
        return "  ".join(str(c).ljust(w) if i in (0, 4) else str(c).rjust(w) for i, (c, w) in enumerate(zip(r, widths)))

    copies = plan["copies_per_item"]
    note = (
        "every format"
        if copies is None or copies >= len(formats)
        else f"{copies} of {len(formats)} formats per item ({plan['format_assignment']})"
    )
    summary = (
        f"items after dedup: {t['items']:,} ({t['sft_items']:,} SFT, {t['dpo_pairs']:,} DPO, {t['both']:,} both); "
        f"rows: {note}"
    )
    names = plan.get("decontaminators")
    if names:
        summary += (
            f"\ncounted BEFORE decontamination: the run's decontaminators ({', '.join(names)}) remove more "
            "items and rows, not estimated here; the run's manifest has the final counts"
        )
    else:
        summary += "\nno decontamination selected: these are the run's counts"
    if plan["global_cap"]:
        cap, sample = plan["global_cap"]
        summary += (
            f"\nglobal cap: a component with {cap:,} items or more kept a seeded {sample:,} (filtered 'global cap')"
        )
    return "\n".join([line(header), line(["-" * w for w in widths]), *map(line, rows), summary])
