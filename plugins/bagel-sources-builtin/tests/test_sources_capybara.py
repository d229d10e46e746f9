"""capybara: input/output pairs as human/gpt turns, id over all inputs."""

from sources_testkit import load, turns

from bagel_core import uid
from bagel_sources_builtin.capybara import Capybara


def test_sample_conversations_and_counts():
    records, counts = load(Capybara)
    assert len(records) == 3
    math = next(r for r in records if r["conversations"][0]["value"] == "Compute 17 * 23.")
    assert turns(math) == [
        ("human", "Compute 17 * 23."),
        ("gpt", "17 * 23 = 391"),
        ("human", "And divided by 17 again?"),
        ("gpt", "391 / 17 = 23"),
    ]
    assert math["id"] == uid("Compute 17 * 23.\nAnd divided by 17 again?")
    assert math["source"] == "capybara"
    assert max(len(r["conversations"]) for r in records) == 6
    assert counts.rejected == {"missing field 'output'": 1}  # a null output
