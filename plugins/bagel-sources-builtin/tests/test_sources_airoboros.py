"""airoboros: conversations verbatim, ids over the instruction, version and category options."""

import pytest
from sources_testkit import by_instruction, load, turns

from bagel_core import uid
from bagel_sources_builtin.airoboros import Airoboros


def test_spicy_conversations_verbatim_with_instruction_ids():
    records, counts = load(Airoboros)
    items = by_instruction(records)
    haiku = items["Write a haiku about autumn."]
    assert haiku["source"] == "airoboros_writing"
    assert turns(haiku) == [
        ("system", "You are a poet."),
        ("human", "Write a haiku about autumn."),
        ("gpt", "Red leaves drift and fall\nwhispering to the cold ground\nsummer's last goodbye"),
    ]
    # The system prompt is not part of the id; the human turns of a multi-turn item are.
    assert haiku["id"] == uid("Write a haiku about autumn.")
    multi = items["Write a Python function that reverses a string."]
    assert multi["id"] == uid("Write a Python function that reverses a string.\nNow make it handle None.")
    assert len(multi["conversations"]) == 4
    assert "airoboros_summarization" in {r["source"] for r in records}
    # An empty instruction, a conversation opening with gpt, and a null conversation list.
    assert counts.rejected == {"empty text": 1, "bad role order": 1, "missing field 'conversations'": 1}
    assert len(records) == 8


def test_head_skips_summarization():
    records, counts = load(Airoboros, skip_categories=("summarization",))
    assert "airoboros_summarization" not in {r["source"] for r in records}
    assert counts.filtered == {"category summarization": 1}


def test_airoboros_32_version():
    records, counts = load(Airoboros, version="airoboros-3.2", skip_categories=("summarization",))
    assert {r["source"] for r in records} == {"airoboros_general", "airoboros_slimorca_multiturn", "airoboros_writing"}
    multiturn = next(r for r in records if r["source"] == "airoboros_slimorca_multiturn")
    assert multiturn["id"] == uid("Who wrote Hamlet?\nWhen?")
    assert counts.filtered == {"category summarization": 1}


def test_unknown_version_is_an_error():
    with pytest.raises(ValueError, match="airoboros-3.2"):
        load(Airoboros, version="airoboros-9")
