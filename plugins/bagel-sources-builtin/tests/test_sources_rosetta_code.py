"""rosetta_code: task + language instruction, HumanEval filter, seeded cap."""

from sources_testkit import load, turns

from bagel_core import uid
from bagel_sources_builtin.rosetta_code import RosettaCode


def test_sample_conversion_and_filters():
    records, counts = load(RosettaCode)
    instruction = "Create a solution in Rust to the following:\nDisplay the string Hello world! on a text console."
    rust = next(r for r in records if r["conversations"][0]["value"] == instruction)
    assert turns(rust) == [("human", instruction), ("gpt", 'fn main() { println!("Hello world!"); }')]
    assert rust["id"] == uid(instruction)
    assert len(records) == 5
    assert counts.filtered == {"humaneval overlap": 1}
    assert counts.rejected == {"missing field 'code'": 1}


def test_seeded_cap():
    capped, counts = load(RosettaCode, max_items=2)
    again, _ = load(RosettaCode, max_items=2)
    other, _ = load(RosettaCode, max_items=2, seed=7)
    assert len(capped) == 2
    assert [r["id"] for r in capped] == [r["id"] for r in again]
    assert counts.filtered == {"humaneval overlap": 1, "cap": 3}
    assert {r["id"] for r in capped} <= {r["id"] for r in load(RosettaCode)[0]}
    assert len(other) == 2
