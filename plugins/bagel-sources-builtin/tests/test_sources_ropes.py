"""ropes: background/situation/question -> first answer with a concise-answer system prompt."""

from sources_testkit import load, turns

from bagel_core import uid
from bagel_sources_builtin.ropes import Ropes


def test_exact_conversation_train_split_only():
    records, counts = load(Ropes)
    instruction = "\n".join(
        [
            "Read the following background information, then apply the knowledge to the question that follows.",
            "",
            "Background:",
            "Warmer water holds less dissolved oxygen than colder water.",
            "",
            "Question:",
            "Lake A is cold and deep. Lake B is warm and shallow.",
            "Which lake has more dissolved oxygen?",
        ]
    )
    assert turns(records[1]) == [
        ("system", "You are a helpful assistant that answers questions concisely."),
        ("human", instruction),
        ("gpt", "Lake A"),  # the first of the answers
    ]
    assert records[1]["id"] == uid(instruction)
    assert len(records) == 2  # the validation file is not read
    assert counts.rejected == {"no answer": 1, "missing field 'background'": 1}  # empty answers; null background
