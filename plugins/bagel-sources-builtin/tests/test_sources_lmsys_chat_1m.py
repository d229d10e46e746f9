"""lmsys_chat_1m (SFT): gpt-4 conversations only, roles mapped to human/gpt, refusals removed."""

from sources_testkit import load, turns

from bagel_core import uid
from bagel_sources_builtin.lmsys_chat_1m import LmsysChat1m


def test_sample_conversations_and_counts():
    records, counts = load(LmsysChat1m)
    items = {r["conversations"][0]["value"]: r for r in records}
    assert set(items) == {
        "What is the tallest mountain on Earth?",
        "Translate 'good morning' into German.",
        "¿Cuál es la capital de Perú?",
    }
    german = items["Translate 'good morning' into German."]
    assert turns(german) == [
        ("human", "Translate 'good morning' into German."),
        ("gpt", "Guten Morgen."),
        ("human", "And into French?"),
        ("gpt", "Bonjour."),
    ]
    assert german["id"] == uid("Translate 'good morning' into German.\nAnd into French?")
    assert german["source"] == "lmsys_chat_1m"
    # vicuna-13b and claude-1 rows; "As an AI developed by OpenAI" (capitalised); a null answer;
    # a system role lmsys does not have.
    assert counts.filtered == {"model": 2, "refusal": 1}
    assert counts.rejected == {"missing field 'content'": 1, "bad value": 1}


def test_language_option():
    records, counts = load(LmsysChat1m, languages=("English",))
    assert len(records) == 2
    assert counts.filtered["language"] == 1
