"""Seeded stratified caps: keep a reproducible sample in which each stratum (a task, an origin
data set, a language variant) keeps its share, or at most a fixed number per stratum.

With ``per_stratum`` each stratum is a streamed bottom-k sample, as in ``caps.capped`` (one
pass). Shares of a total need every stratum's size first: the first pass converts every row,
counting filters and rejects, and remembers only (row index, id) per stratum; the second
converts again just the drawn rows under a scratch context, so nothing is counted twice and
memory stays flat.
"""

from __future__ import annotations

from collections import defaultdict
from typing import Any, Callable, Iterator, Optional

from bagel_core import LoadContext, Record

from .caps import valid_records


def stratified_capped(
    ctx: LoadContext,
    rows: Any,
    convert: Callable[[Any, LoadContext], Any],
    stratum: Callable[[Any], str],
    cap: Optional[int],
    per_stratum: bool = False,
) -> Iterator[Record]:
    """Records of ``rows`` (a ``datasets.Dataset``): ``cap`` of them in all, strata in proportion,
    or with ``per_stratum`` at most ``cap`` of each stratum. ``stratum(row)`` is read only from
    rows that converted, so ``convert`` must check the field is there. Invalid records are
    rejected before the draw; every valid record left out is counted as filtered under "cap".
    """
    if cap is None:
        for row in ctx.iter_rows(rows):
            yield from ctx.convert_row(convert, row)
        return
    if per_stratum:
        samples: dict[str, Any] = {}
        for arrival, (row, record) in enumerate(valid_records(ctx, rows, convert)):
            name = stratum(row)
            if name not in samples:
                samples[name] = ctx.bottom_k(cap, f"cap:{name}")
            samples[name].offer(record["id"], (arrival, record))
        dropped = sum(s.dropped for s in samples.values())
        if dropped:
            ctx.filter("cap", dropped)
        # In upstream order, as without a cap.
        for _, record in sorted(item for s in samples.values() for item in s.items()):
            yield record
        return
    kept: dict[str, list[tuple[int, str]]] = defaultdict(list)
    for index, row in enumerate(ctx.iter_rows(rows)):
        for _, record in valid_records(ctx, (row,), convert):
            kept[stratum(row)].append((index, record["id"]))
    ids = {name: [k for _, k in pairs] for name, pairs in kept.items()}
    overall = ctx.stratified_sample(ids, cap, "cap")
    drawn = {name: overall for name in ids}
    # Per stratum, so an id drawn in one stratum does not bring its twin of another along.
    indices = sorted(i for name, pairs in kept.items() for i, k in pairs if k in drawn[name])
    dropped = sum(len(keys) for keys in ids.values()) - len(indices)
    if dropped:
        ctx.filter("cap", dropped)
    wanted = set().union(*drawn.values())
    scratch = LoadContext(ctx.component, ctx.seed, ctx.data, ctx.options)
    for row in ctx.iter_rows(rows.select(indices)):
        for record in scratch.convert_row(convert, row):
            if record["id"] in wanted:
                yield record
