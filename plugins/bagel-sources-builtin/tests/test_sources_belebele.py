"""belebele: passage + question -> the correct option's text, every variant, capped per variant."""

from collections import Counter

from sources_testkit import by_instruction, load, turns

from bagel_core import uid
from bagel_sources_builtin.belebele import Belebele

EN = "Make sure your hand is as relaxed as possible while still hitting all the notes correctly. This way you will tire less."


def test_exact_conversation_without_options():
    records, _ = load(Belebele)
    instruction = f"{EN}\nAccording to the passage, what would not be considered good advice for playing the accordion?"
    record = by_instruction(records)[instruction]
    assert turns(record) == [("human", instruction), ("gpt", "Tire quickly")]
    assert record["id"] == uid(instruction) and record["source"] == "belebele"


def test_every_variant_and_malformed_rows():
    records, counts = load(Belebele)
    assert len(records) == 9
    assert counts.rejected == {
        "bad value": 1,
        "missing field 'flores_passage'": 1,
    }  # correct_answer_num "5"; no flores_passage
    assert {r["conversations"][1]["value"] for r in records} >= {"La main", "Die Hand", "Your hand"}


def test_cap_per_variant():
    records, counts = load(Belebele, max_items=2)
    # each variant has its own passage: 2 of eng (4 valid rows), 2 of fra (3), 2 of deu (2)
    per_variant = Counter(r["conversations"][0]["value"].split("\n")[0] for r in records)
    assert sorted(per_variant.values()) == [2, 2, 2]
    assert counts.filtered == {"cap": 3}
    assert load(Belebele, max_items=2)[0] == records
    assert Belebele.max_items == 300


def test_metadata_says_evaluation_data():
    assert Belebele.metadata()["evaluation_data"] is True
    assert "EVALUATION" in Belebele.description
