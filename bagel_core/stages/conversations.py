"""``conversations.parquet``: every SFT conversation, unrendered, as OpenAI-style messages.

The rendered ``sft.parquet`` serves one prompt format per row; tools that apply a model's own
chat template (trl with ``messages``, axolotl's ``chat_template`` type, LLaMA-Factory's
``sharegpt`` format with OpenAI tags) want the conversation itself. This writes one row per
item, after dedup and decontamination, exactly as loaded: ShareGPT roles become ``system`` /
``user`` / ``assistant`` and nothing else changes (no default system prompt, no newline
clean-up; those are rendering rules of the prompt formats).

Plain-text items have no conversation; they are skipped here and counted (they are in
``sft.parquet`` with an empty prompt).
"""

from __future__ import annotations

from collections import Counter

import pyarrow as pa
import pyarrow.compute as pc

from ..records import CONVERSATIONS_SCHEMA, MESSAGE_TYPE, ROLES
from ..rendering import ROLE_NAMES

CONVERSATIONS = "conversations.parquet"
_FROM = pa.array(ROLES, pa.string())
_TO = pa.array([ROLE_NAMES[r] for r in ROLES], pa.string())


def as_messages(conversations: pa.ListArray) -> pa.ListArray:
    """ShareGPT ``{from, value}`` lists as ``{role, content}`` lists (no nulls allowed).

    Done on the Arrow buffers, not row by row: the roles are mapped once for all turns and the
    list offsets are reused.
    """
    turns = conversations.values
    index = pc.index_in(turns.field("from"), value_set=_FROM)
    if index.null_count:
        bad = pc.filter(turns.field("from"), pc.is_null(index))[0].as_py()
        raise ValueError(f"conversation turn with unknown role {bad!r}; expected one of {', '.join(ROLES)}")
    messages = pa.StructArray.from_arrays([_TO.take(index), turns.field("value")], fields=list(MESSAGE_TYPE))
    return pa.ListArray.from_arrays(conversations.offsets, messages)


def conversation_rows(items: pa.Table) -> tuple[pa.Table, Counter, Counter]:
    """The ``conversations.parquet`` rows of ``items`` (SFT items in the work schema: the render
    stage passes each row group it has read for rendering, so the file costs no second read),
    with the items written and the plain-text items skipped, per origin."""
    # Only the columns needed, and filtered only when there are plain-text items: a filter
    # copies what it keeps, and this runs in every render worker beside its rendered rows.
    items = items.select(["id", "source", "origin", "conversations"])
    has = pc.is_valid(items.column("conversations"))
    plain = items.num_rows - pc.sum(has).as_py() if items.num_rows else 0
    kept = items.filter(has) if plain else items
    skipped = Counter(items.filter(pc.invert(has)).column("origin").to_pylist()) if plain else Counter()
    written = Counter(kept.column("origin").to_pylist())
    messages = as_messages(kept.column("conversations").combine_chunks())
    return pa.table([kept.column("id"), kept.column("source"), messages], schema=CONVERSATIONS_SCHEMA), written, skipped
