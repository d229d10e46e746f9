"""synthia: system prompts, embedded USER:/ASSISTANT: turns, vicuna-marker and refusal filters, cap."""

from sources_testkit import load, turns

from bagel_core import uid
from bagel_sources_builtin.synthia import Synthia, split_turns

SYS = (
    "Elaborate on the topic using a Tree of Thoughts and backtrack when necessary to construct a clear, "
    "cohesive Chain of Thought reasoning."
)


def test_split_turns():
    assert split_turns("What is 2 + 3?\nASSISTANT: 5\nUSER: And times 4?") == [
        {"from": "human", "value": "What is 2 + 3?\n"},
        {"from": "gpt", "value": "5\n"},
        {"from": "human", "value": "And times 4?"},
    ]
    assert split_turns("USER: hi") == [{"from": "human", "value": "hi"}]


def test_sample_conversations_and_counts():
    records, counts = load(Synthia)
    items = {next(t["value"] for t in r["conversations"] if t["from"] == "human"): r for r in records}
    sky = items["Why is the sky blue?"]
    assert turns(sky) == [
        ("system", SYS),
        ("human", "Why is the sky blue?"),
        ("gpt", "Sunlight scatters off air molecules; shorter blue wavelengths scatter most."),
    ]
    assert sky["id"] == uid("Why is the sky blue?")  # the system prompt is not part of the id
    assert turns(items["Name the largest planet in the solar system."])[0][0] == "human"  # blank system: no turn
    multi = items["What is 2 + 3?\n"]
    assert [t for t, _ in turns(multi)] == ["system", "human", "gpt", "human", "gpt"]
    assert multi["id"] == uid("What is 2 + 3?\n\nAnd times 4?")
    assert len(records) == 4
    assert counts.filtered == {"vicuna-style markers": 2, "refusal": 1}
    assert counts.rejected == {"missing field 'response'": 1}


def test_seeded_cap():
    capped, counts = load(Synthia, max_items=1)
    assert len(capped) == 1
    assert counts.filtered["cap"] == 3
