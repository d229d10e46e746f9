"""Validation of records, with a named reason for every rejection.

The pipeline validates every record a plugin emits; a rejected record is counted under its
source and reason in the manifest and never stops a run.
"""

from __future__ import annotations

from enum import Enum
from typing import Any

from .records import ROLES


class Reason(str, Enum):  # noqa: UP042 (StrEnum would change str(), which messages use)
    """Why a record was rejected. The value is what the manifest shows."""

    MISSING_FIELD = "missing field"
    NON_STRING = "non-string value"
    EMPTY_TEXT = "empty text"
    UNKNOWN_ROLE = "unknown role"
    BAD_ROLE_ORDER = "bad role order"
    NO_ASSISTANT_TURN = "no assistant turn"
    CHOSEN_EQUALS_REJECTED = "chosen equals rejected"
    NOT_A_RECORD = "not a record"

    def __str__(self) -> str:  # so f-strings and counters show the readable value
        return self.value


def _text_problem(value: Any) -> Reason | None:
    if value is None:
        return Reason.MISSING_FIELD
    if not isinstance(value, str):
        return Reason.NON_STRING
    if not value.strip():
        return Reason.EMPTY_TEXT
    return None


def validate_conversation(turns: Any) -> Reason | None:
    """Check ShareGPT turns: optional leading system, then human/gpt alternating, ending with gpt."""
    if not isinstance(turns, (list, tuple)):
        return Reason.NON_STRING if turns is not None else Reason.MISSING_FIELD
    expected = "human"
    saw_gpt = False
    for index, turn in enumerate(turns):
        if not isinstance(turn, dict) or "from" not in turn or "value" not in turn:
            return Reason.MISSING_FIELD
        role = turn["from"]
        if role not in ROLES:
            return Reason.UNKNOWN_ROLE
        problem = _text_problem(turn["value"])
        if problem:
            return problem
        if role == "system":
            if index != 0:
                return Reason.BAD_ROLE_ORDER
            continue
        if role != expected:
            return Reason.BAD_ROLE_ORDER
        saw_gpt = saw_gpt or role == "gpt"
        expected = "gpt" if role == "human" else "human"
    if not saw_gpt:
        return Reason.NO_ASSISTANT_TURN
    if expected != "human":  # ends on a human turn: nothing to train on after it
        return Reason.BAD_ROLE_ORDER
    return None


def validate_record(record: Any, *, identical_pairs: bool = False) -> Reason | None:
    """The reason ``record`` must be rejected, or ``None`` when it is valid.

    A DPO pair whose chosen and rejected are the same string is rejected unless
    ``identical_pairs`` (the run's ``keep_identical_pairs`` for the builder that made it: the
    reference's gutenberg-dpo and py-dpo compared nothing)."""
    if not isinstance(record, dict):
        return Reason.NOT_A_RECORD
    for key in ("id", "source"):
        problem = _text_problem(record.get(key))
        if problem:
            return problem
    has_sft = record.get("conversations") is not None or record.get("text") is not None
    has_dpo = any(record.get(k) is not None for k in ("prompt", "chosen", "rejected"))
    if not has_sft and not has_dpo:
        return Reason.MISSING_FIELD
    if record.get("conversations") is not None:
        problem = validate_conversation(record["conversations"])
        if problem:
            return problem
    elif record.get("text") is not None:
        problem = _text_problem(record["text"])
        if problem:
            return problem
    if has_dpo:
        for key in ("prompt", "chosen", "rejected"):
            problem = _text_problem(record.get(key))
            if problem:
                return problem
        if record.get("system") is not None and not isinstance(record["system"], str):
            return Reason.NON_STRING
        if record["chosen"] == record["rejected"] and not identical_pairs:
            return Reason.CHOSEN_EQUALS_REJECTED
    return None
