"""Seeded caps: keep a uniform, reproducible sample of a source's converted rows.

Two passes keep memory flat: the first converts every row (counting filters and rejects) and
remembers only the ids of valid items; the second converts again just the rows whose id was
drawn, under a scratch context so nothing is counted twice.
"""

from __future__ import annotations

from typing import Any, Callable, Iterator, Optional

from bagel_core import LoadContext, Record, validate_record


def capped(
    ctx: LoadContext,
    rows: Any,
    convert: Callable[[Any, LoadContext], Any],
    cap: Optional[int],
    purpose: str = "cap",
) -> Iterator[Record]:
    """Records of ``rows`` (a ``datasets.Dataset``), at most ``cap`` of them drawn by id.

    Invalid records are rejected with their reason before the draw, so they never take a slot;
    every valid record beyond the cap is counted as filtered under ``"cap"``.
    """
    if cap is None:
        for row in rows:
            yield from ctx.convert_row(convert, row)
        return
    kept: list[tuple[int, str]] = []
    for index, row in enumerate(rows):
        for record in ctx.convert_row(convert, row):
            reason = validate_record(record)
            if reason is not None:
                ctx.reject(reason)
            else:
                kept.append((index, record["id"]))
    drawn = ctx.sample_keys((k for _, k in kept), cap, purpose)
    chosen = sorted({i for i, k in kept if k in drawn})
    dropped = len(kept) - sum(1 for _, k in kept if k in drawn)
    if dropped:
        ctx.filter("cap", dropped)
    scratch = LoadContext(ctx.component, ctx.seed, ctx.data, ctx.options)
    for row in rows.select(chosen):
        for record in scratch.convert_row(convert, row):
            if record["id"] in drawn:
                yield record
