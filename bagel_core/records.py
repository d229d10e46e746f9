"""The one record schema that flows between pipeline stages, and helpers to build records.

A *record* is a plain dict. It is an SFT item (``conversations`` or ``text``), a DPO pair
(``prompt``, ``chosen``, ``rejected``, optional ``system``), or both at once (a conversation
that also yields a preference pair, like airoboros' rewrites). Plugins build records with the
helpers below so ids are computed the same way everywhere.
"""

from __future__ import annotations

import hashlib
import uuid
from collections.abc import Sequence
from typing import TypedDict

import pyarrow as pa

#: ShareGPT turn: ``{"from": "system" | "human" | "gpt", "value": str}``.
Turn = TypedDict("Turn", {"from": str, "value": str})

ROLES = ("system", "human", "gpt")


class Record(TypedDict, total=False):
    id: str
    source: str
    conversations: list[Turn] | None
    text: str | None
    prompt: str | None
    chosen: str | None
    rejected: str | None
    system: str | None


TURN_TYPE = pa.struct([("from", pa.string()), ("value", pa.string())])

#: What a load stage writes: one row per record, unused fields null.
RECORD_SCHEMA = pa.schema(
    [
        ("id", pa.string()),
        ("source", pa.string()),
        ("conversations", pa.list_(TURN_TYPE)),
        ("text", pa.string()),
        ("prompt", pa.string()),
        ("chosen", pa.string()),
        ("rejected", pa.string()),
        ("system", pa.string()),
    ]
)
RECORD_FIELDS = tuple(RECORD_SCHEMA.names)

#: ``sft.parquet``: one row per (item, assistant turn, format): ``prompt`` is the conversation
#: up to the turn rendered in the format, ``completion`` the turn. These are the names trl's
#: ``SFTTrainer`` reads (a prompt-completion dataset: loss on the completion only), so it trains
#: on the file as is; every reader in bagel uses them too (one copy of each text). The cut is on a
#: token boundary (spaces ending the format's prompt begin the completion:
#: ``rendering.at_token_boundary``); ``prompt + completion`` is the format's text unchanged.
SFT_SCHEMA = pa.schema(
    [
        ("id", pa.string()),
        ("source", pa.string()),
        ("format", pa.string()),
        ("prompt", pa.string()),
        ("completion", pa.string()),
    ]
)
#: What ``sft.parquet`` called the two texts before (deprecated): readers of an output folder
#: (``bagel train``, ``export``, ``report``) still accept a file with only these names.
LEGACY_SFT_COLUMNS = {"input": "prompt", "output": "completion"}


def legacy_renames(names: Sequence[str]) -> dict[str, str]:
    """The renames that give an earlier bagel's ``sft.parquet`` (columns ``names``, with
    ``input``/``output``) today's names; empty for any other file."""
    if "completion" not in names and "output" in names:
        return {old: new for old, new in LEGACY_SFT_COLUMNS.items() if old in names}
    return {}


def sft_text_columns(names: Sequence[str]) -> tuple[str, str]:
    """The (prompt, completion) column names of an ``sft.parquet`` whose columns are ``names``:
    ``prompt``/``completion``, or ``input``/``output`` in a folder written by an earlier bagel."""
    return ("input", "output") if legacy_renames(names) else ("prompt", "completion")


#: A chat message in the OpenAI shape that trl, axolotl and LLaMA-Factory read.
MESSAGE_TYPE = pa.struct([("role", pa.string()), ("content", pa.string())])

#: ``conversations.parquet``: one row per SFT conversation, unrendered.
CONVERSATIONS_SCHEMA = pa.schema(
    [
        ("id", pa.string()),
        ("source", pa.string()),
        ("messages", pa.list_(MESSAGE_TYPE)),
    ]
)

#: ``dpo.parquet``: one row per (pair, format); only the prompt is rendered, cut on a token
#: boundary (spaces ending it begin ``chosen`` and ``rejected``).
DPO_SCHEMA = pa.schema(
    [
        ("id", pa.string()),
        ("source", pa.string()),
        ("format", pa.string()),
        ("prompt", pa.string()),
        ("chosen", pa.string()),
        ("rejected", pa.string()),
    ]
)

# uuid5 in the OID namespace, as the reference computed its dedup keys.
_NAMESPACE = uuid.NAMESPACE_OID.bytes


def uid(text: str) -> str:
    """The dedup id of an instruction: uuid5 (OID namespace) of its UTF-8 text.

    Equal to ``str(uuid.uuid5(uuid.NAMESPACE_OID, text))``, computed without building UUID
    objects: it runs once per item of every source.

    >>> uid("What is 2+2?")
    'c2807505-8901-5023-aa0d-d9f161f13dc3'
    """
    digest = bytearray(hashlib.sha1(_NAMESPACE + text.encode()).digest()[:16])
    digest[6] = (digest[6] & 0x0F) | 0x50  # version 5
    digest[8] = (digest[8] & 0x3F) | 0x80  # RFC 4122 variant
    h = digest.hex()
    return f"{h[:8]}-{h[8:12]}-{h[12:16]}-{h[16:20]}-{h[20:]}"


def conversation(instruction: str, response: str, system: str | None = None) -> list[Turn]:
    """A single-turn ShareGPT conversation, with a leading system turn when one is given."""
    turns: list[Turn] = []
    if system:
        turns.append({"from": "system", "value": system})
    turns.append({"from": "human", "value": instruction})
    turns.append({"from": "gpt", "value": response})
    return turns


def instruction_text(turns: list[Turn]) -> str:
    """The instruction of a conversation: its human turns joined by a newline.

    For a single-turn conversation this is the instruction itself, so ``uid`` of it equals
    ``uid(instruction)``; the system prompt and the responses never take part in the id.
    """
    return "\n".join(t["value"] for t in turns if t.get("from") == "human" and isinstance(t.get("value"), str))


def sft_item(source: str, conversations: list[Turn], id: str | None = None) -> Record:
    """An SFT record; ``id`` defaults to the uid of the conversation's instruction text."""
    return {
        "id": id if id is not None else uid(instruction_text(conversations)),
        "source": source,
        "conversations": conversations,
    }


def as_conversation(source: str, instruction: str, response: str, system: str | None = None) -> Record:
    """A single-turn SFT record whose id is ``uid(instruction)``."""
    return {
        "id": uid(instruction),
        "source": source,
        "conversations": conversation(instruction, response, system),
    }


def plain_text(source: str, text: str, id: str | None = None) -> Record:
    """A plain-text record (trained on whole, with an empty input); id defaults to ``uid(text)``."""
    return {"id": id if id is not None else uid(text), "source": source, "text": text}


def dpo_pair(
    source: str,
    prompt: str,
    chosen: str,
    rejected: str,
    system: str | None = None,
    id: str | None = None,
) -> Record:
    """A DPO record; ``id`` defaults to ``uid(prompt)``, the key DPO pairs are deduplicated by."""
    record: Record = {
        "id": id if id is not None else uid(prompt),
        "source": source,
        "prompt": prompt,
        "chosen": chosen,
        "rejected": rejected,
    }
    if system:
        record["system"] = system
    return record
