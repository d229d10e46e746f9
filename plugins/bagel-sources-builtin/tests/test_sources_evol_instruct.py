"""evol_instruct: instruction -> output, refusals removed."""

from sources_testkit import load, turns

from bagel_core import uid
from bagel_sources_builtin.evol_instruct import EvolInstruct


def test_sample_conversion_and_counts():
    records, counts = load(EvolInstruct)
    instruction = "Rewrite the sentence in the passive voice: The committee approved the budget."
    assert turns(records[0]) == [("human", instruction), ("gpt", "The budget was approved by the committee.")]
    assert records[0]["id"] == uid(instruction) and records[0]["source"] == "evol_instruct"
    # Newlines stay as published; rendering collapses them.
    assert "\n\n\n\n2." in turns(records[1])[1][1]
    assert len(records) == 2
    assert counts.filtered == {"refusal": 1}
    assert counts.rejected == {"missing field 'output'": 1}  # no output (datasets fills the column with null)
