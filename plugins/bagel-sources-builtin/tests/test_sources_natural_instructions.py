"""natural_instructions: definition + inputs -> targets, sampled down stratified by task."""

from collections import Counter

from sources_testkit import by_instruction, load, turns

from bagel_core import uid
from bagel_sources_builtin.natural_instructions import NaturalInstructions

D3 = 'Given an input word generate a word that rhymes exactly with the input word. If no rhyme is found return "No"'


def task_of(record: dict) -> str:
    return record["conversations"][0]["value"].split("\n", 1)[0][:20]


def test_exact_conversation():
    records, _ = load(NaturalInstructions)
    instruction = f"{D3}\ncat"
    assert turns(by_instruction(records)[instruction]) == [("human", instruction), ("gpt", "hat")]
    assert by_instruction(records)[instruction]["id"] == uid(instruction)


def test_malformed_rows_are_counted():
    records, counts = load(NaturalInstructions)
    assert len(records) == 13 and counts.rejected == {"missing field 'targets'": 1}  # null targets
    assert counts.filtered == {}


def test_stratified_cap_keeps_each_task_share():
    # 3 + 8 + 2 valid rows; 6 of 13 -> about 1.4, 3.7, 0.9 -> 1, 4, 1 (largest remainder)
    records, counts = load(NaturalInstructions, max_items=6)
    assert len(records) == 6 and counts.filtered == {"cap": 7}
    assert sorted(Counter(task_of(r) for r in records).values()) == [1, 1, 4]
    assert load(NaturalInstructions, max_items=6)[0] == records
    assert NaturalInstructions.max_items == 50_000
