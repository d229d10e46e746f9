"""pippa: persona kept with the greeting appended, refusals over all turns, seeded keep."""

from sources_testkit import load, turns

from bagel_core import uid
from bagel_sources_builtin.pippa import Pippa


def test_persona_kept_and_greeting_appended():
    records, counts = load(Pippa, keep_probability=1.0)
    aria = records[0]
    assert turns(aria) == [
        (
            "system",
            "Aria's Persona: A cheerful starship engineer who loves puns.\n\n"
            "First message: *Aria wipes grease from her hands* Welcome aboard! Need anything fixed?",
        ),
        ("human", "The warp core is making a strange noise."),
        ("gpt", "*She grins* Sounds like it needs a little core-dial attention!"),
    ]
    assert aria["id"] == uid("The warp core is making a strange noise.")
    assert len(records) == 10
    assert counts.filtered == {"refusal": 1, "starts with gpt": 1, "fewer than three turns": 1}
    assert counts.rejected == {"missing field 'conversations'": 1, "invalid JSON": 1}


def test_keep_probability_is_seeded():
    half, counts = load(Pippa)
    again, _ = load(Pippa)
    assert [r["id"] for r in half] == [r["id"] for r in again]
    assert len(half) + counts.filtered["not drawn"] == 10
    assert 0 < len(half) < 10
    quarter, counts = load(Pippa, keep_probability=0.0)
    assert quarter == [] and counts.filtered["not drawn"] == 10
