"""limarp: greeting folded into the persona, refusals and odd conversations filtered, cut to
fit the token budget."""

from sources_testkit import load, turns

from bagel_sources_builtin.limarp import LimaRP, fit


def words(text: str) -> int:
    return len(text.split())


def test_fit_keeps_the_longest_prefix_ending_with_gpt():
    conv = [
        {"from": f, "value": v}
        for f, v in [
            ("system", "a"),
            ("human", "b b"),
            ("gpt", "c c c"),
            ("human", "d"),
            ("gpt", "e e e e"),
            ("human", "f"),
            ("gpt", "g"),
        ]
    ]
    assert fit(conv, 100, words) == conv
    assert fit(conv, 12, words) == conv[:5]  # 1+2+3+1+4 = 11 < 12; the next gpt turn needs 13
    assert fit(conv, 7, words) is None  # not even four turns fit


def test_sample_conversations_and_counts():
    records, counts = load(LimaRP, tokenizer="approx")
    mira = records[0]
    assert turns(mira) == [
        (
            "system",
            "Mira's Persona: a sardonic ship mechanic with a soft spot for strays.\n\n"
            "First message: *Mira looks up from the engine* You again? What broke this time?",
        ),
        ("human", "Nothing broke. I brought you a kitten."),
        ("gpt", "*She sighs, but takes the kitten* Fine. It can guard the spanners."),
        ("human", "What will you call it?"),
        ("gpt", "*She grins* Sprocket."),
    ]
    assert mira["source"] == "limarp"
    assert len(records) == 2 and len(records[1]["conversations"]) == 7
    assert counts.filtered == {"refusal": 1, "starts with gpt": 1, "fewer than three turns": 1}
    assert counts.rejected == {"wrong type": 1}  # a non-text value


def test_long_conversation_cut_to_the_budget():
    # Each narration is ~370 approximate tokens: 1,000 keeps system + two exchanges.
    records, counts = load(LimaRP, tokenizer="approx", max_tokens=1000)
    tom = records[1]
    assert [r for r, _ in turns(tom)] == ["system", "human", "gpt", "human", "gpt"]
    _, counts = load(LimaRP, tokenizer="approx", max_tokens=300)
    assert counts.filtered["over the token budget"] == 1  # Mira still fits
