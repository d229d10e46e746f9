"""slimorca: weights dropped, refusal filter over every turn, seeded cap, HEAD's airoboros skip."""

from sources_testkit import load, turns

from bagel_core import uid
from bagel_sources_builtin.slimorca import SlimOrca


def test_sample_conversations_and_counts():
    records, counts = load(SlimOrca)
    items = {
        r["conversations"][1]["value"]
        if r["conversations"][0]["from"] == "system"
        else r["conversations"][0]["value"]: r
        for r in records
    }
    tomato = items["Is a tomato a fruit?"]
    assert turns(tomato) == [
        ("system", "You are a helpful assistant, who always provide explanation."),
        ("human", "Is a tomato a fruit?"),
        ("gpt", "Yes. Botanically, a tomato is a fruit because it develops from the flower's ovary."),
    ]
    assert tomato["id"] == uid("Is a tomato a fruit?")
    assert set(tomato["conversations"][0]) == {"from", "value"}
    # The filter tests every turn: a user mentioning OpenAI removes the item too.
    assert "Explain photosynthesis briefly, the way OpenAI models would." not in items
    assert "What is 12 squared?" not in items  # "As an AI language model" in the answer
    assert len(records) == 4
    assert counts.filtered == {"refusal": 2}
    assert counts.rejected == {"missing field 'value'": 1}


def test_seeded_cap():
    capped, counts = load(SlimOrca, max_items=3)
    again, _ = load(SlimOrca, max_items=3)
    assert len(capped) == 3 and [r["id"] for r in capped] == [r["id"] for r in again]
    assert counts.filtered == {"refusal": 2, "cap": 1}


def test_head_skips_rows_extended_in_airoboros_32():
    records, counts = load(SlimOrca, skip_airoboros_multiturn=True)
    assert "Who wrote Hamlet?" not in {t["value"] for r in records for t in r["conversations"]}
    assert counts.filtered["extended in airoboros-3.2"] == 1
