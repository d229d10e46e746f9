"""Seeded caps: keep a uniform, reproducible sample of a source's converted rows.

One pass: every row is converted once (filters and rejects counted as they happen) and the
valid records compete for the ``cap`` slots of a streamed bottom-k sample, so memory holds at
most ``cap`` records and no row is converted twice.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator
from typing import Any

from bagel_core import LoadContext, Record, validate_record


def valid_records(
    ctx: LoadContext, rows: Iterable[Any], convert: Callable[[Any, LoadContext], Any]
) -> Iterator[tuple[Any, Record]]:
    """``(row, record)`` for every valid record of ``rows``; invalid ones are rejected with their
    reason here, so they never take a slot of a cap."""
    for row in ctx.iter_rows(rows):
        for record in ctx.convert_row(convert, row):
            reason = validate_record(record)
            if reason is not None:
                ctx.reject(reason, row=record)
            else:
                yield row, record


def capped(
    ctx: LoadContext,
    rows: Any,
    convert: Callable[[Any, LoadContext], Any],
    cap: int | None,
    purpose: str = "cap",
) -> Iterator[Record]:
    """Records of ``rows``, at most ``cap`` of them drawn by id (seeded, order-independent).

    Every valid record beyond the cap is counted as filtered under ``"cap"``.
    """
    if cap is None:
        for row in ctx.iter_rows(rows):
            yield from ctx.convert_row(convert, row)
        return
    sample = ctx.bottom_k(cap, purpose)
    for _, record in valid_records(ctx, rows, convert):
        sample.offer(record["id"], record)
    if sample.dropped:
        ctx.filter("cap", sample.dropped)
    yield from sample.items()
