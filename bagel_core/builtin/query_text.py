"""Which text of an item a decontaminator checks: the first human turn (or DPO prompt), as the
reference did, or every human turn (catches a benchmark question asked in a later turn)."""

from __future__ import annotations

from typing import Literal

from ..components import Query

#: ``first``: :attr:`Query.text` only; ``all``: every human turn.
QueryText = Literal["first", "all"]


def texts_of(query: Query, which: QueryText) -> tuple[str, ...]:
    """The non-blank texts of ``query`` to check."""
    if which == "first":
        texts: tuple[str, ...] = (query.text,)
    elif which == "all":
        texts = query.human_turns or (query.text,)
    else:
        raise ValueError(f"query_text must be 'first' or 'all', got {which!r}")
    return tuple(t for t in texts if t and t.strip())
