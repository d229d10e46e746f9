"""Seeded stratified caps: keep a reproducible sample in which each stratum (a task, an origin
data set, a language variant) keeps its share, or at most a fixed number per stratum.

Built like ``caps.capped`` (uniform caps): the first pass converts every row, counting filters
and rejects, and remembers only (row index, id) per stratum; the second converts again just the
drawn rows under a scratch context, so nothing is counted twice and memory stays flat.
"""

from __future__ import annotations

from collections import defaultdict
from typing import Any, Callable, Iterator, Optional

from bagel_core import LoadContext, Record, validate_record


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
        for row in rows:
            yield from ctx.convert_row(convert, row)
        return
    kept: dict[str, list[tuple[int, str]]] = defaultdict(list)
    for index, row in enumerate(rows):
        for record in ctx.convert_row(convert, row):
            reason = validate_record(record)
            if reason is not None:
                ctx.reject(reason)
            else:
                kept[stratum(row)].append((index, record["id"]))
    ids = {name: [k for _, k in pairs] for name, pairs in kept.items()}
    if per_stratum:
        drawn = {name: ctx.sample_keys(keys, cap, f"cap:{name}") for name, keys in ids.items()}
    else:
        overall = ctx.stratified_sample(ids, cap, "cap")
        drawn = {name: overall for name in ids}
    # Per stratum, so an id drawn in one stratum does not bring its twin of another along.
    indices = sorted(i for name, pairs in kept.items() for i, k in pairs if k in drawn[name])
    dropped = sum(len(keys) for keys in ids.values()) - len(indices)
    if dropped:
        ctx.filter("cap", dropped)
    wanted = set().union(*drawn.values())
    scratch = LoadContext(ctx.component, ctx.seed, ctx.data, ctx.options)
    for row in rows.select(indices):
        for record in scratch.convert_row(convert, row):
            if record["id"] in wanted:
                yield record
