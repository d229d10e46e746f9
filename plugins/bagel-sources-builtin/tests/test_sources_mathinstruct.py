"""mathinstruct: instruction -> output, sampled down stratified by the `source` column."""

from sources_testkit import load, turns

from bagel_core import uid
from bagel_sources_builtin.mathinstruct import MathInstruct


def test_exact_conversation():
    records, _ = load(MathInstruct)
    instruction = "Tom has 3 apples and buys 4 more. How many apples does he have?"
    assert turns(records[0]) == [("human", instruction), ("gpt", "Tom has 3 + 4 = 7 apples.\nThe answer is 7")]
    assert records[0]["id"] == uid(instruction) and records[0]["source"] == "mathinstruct"


def test_malformed_rows_are_counted():
    records, counts = load(MathInstruct)
    assert len(records) == 7 and counts.rejected == {
        "missing field 'output'": 1,
        "missing field 'source'": 1,
    }  # null output; no source


def test_stratified_cap():
    # gsm_rft 4, mathqa 2, aqua_rat 1 valid rows; 4 of 7 -> 2.3, 1.1, 0.6 -> 2, 1, 1
    records, counts = load(MathInstruct, max_items=4)
    assert len(records) == 4 and counts.filtered == {"cap": 3}
    instructions = {r["conversations"][0]["value"] for r in records}
    assert "What is 25% of 80?\nAnswer Choices: (A) 15 (B) 20 (C) 25 (D) 30 (E) 35" in instructions
    assert sum("Python program" in i or "write a program" in i for i in instructions) == 1
    assert MathInstruct.max_items == 50_000
