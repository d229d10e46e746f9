"""helpsteer on its sample: the cards' rule (best correctness-4 vs a seeded lower-scoring one)."""

from bagel_core import uid
from bagel_core.testing import load_sample
from bagel_dpo_builtin.helpsteer import HelpSteer


def _pairs(seed=42):
    records, counts = load_sample(HelpSteer, seed=seed)
    return {r["prompt"]: r for r in records}, counts


def test_dpo_helpsteer_exact_pairs():
    pairs, counts = _pairs()
    assert pairs["Name three primary colors."] == {
        "id": uid("Name three primary colors."),
        "source": "helpsteer",
        "prompt": "Name three primary colors.",
        "chosen": "Red, blue and yellow.",
        "rejected": "Green, purple and orange.",
    }
    assert (pairs["Translate 'hello' to Spanish."]["chosen"], pairs["Translate 'hello' to Spanish."]["rejected"]) == (
        "Hola.",
        "Bonjour.",
    )
    # A higher-scoring response of lower correctness comes first; the reference would have
    # rejected it, the card's rule rejects the lower-scoring one.
    assert (pairs["How many continents are there?"]["chosen"], pairs["How many continents are there?"]["rejected"]) == (
        "Seven.",
        "Five.",
    )
    # Two correctness-4 responses with the same top score: the first is chosen.
    assert pairs["What is the chemical symbol for gold?"]["chosen"] == "Au, from the Latin aurum."
    assert pairs["What is the chemical symbol for gold?"]["rejected"] == "Ag."
    assert counts.loaded == 5


def test_dpo_helpsteer_filters_and_malformed_rows():
    pairs, counts = _pairs()
    assert set(pairs).isdisjoint(
        {"Write a limerick about a cat.", "Is the sun a star?", "What is the capital of Italy?", "Who wrote Hamlet?"}
    )
    assert counts.filtered == {
        "refusal": 2,  # "As an AI language model" and a capitalised "OPENAI"
        "single response": 2,  # the sun; Hamlet once its refusal is dropped
        "no correct response": 1,  # the limerick
        "no lower-scoring response": 1,  # Italy: the lower one equals the chosen up to case
    }
    assert counts.rejected == {"missing field 'response'": 1, "missing field 'helpfulness'": 1}  # a null attribute


def test_dpo_helpsteer_rejected_is_a_seeded_lower_scoring_choice():
    prompt = "What causes the seasons on Earth?"
    lower = {"Earth is closer to the sun in summer.", "Axial tilt."}
    picks = [_pairs(seed)[0][prompt] for seed in range(8)]
    assert all(p["chosen"].startswith("The tilt of Earth's axis") for p in picks)
    assert {p["rejected"] for p in picks} == lower  # both lower-scoring responses occur
    assert _pairs(3)[0][prompt] == picks[3]  # same seed, same pair


def test_dpo_helpsteer_reference_pairing_on_the_sample():
    """The reference's rule (issue 28, row 5): the first correctness-4 response is chosen and
    the first response of lower correctness rejected, even when it scores higher."""
    records, counts = load_sample(HelpSteer, dict(pairing="reference", same_responses="exact"))
    pairs = {r["prompt"]: (r["chosen"], r["rejected"]) for r in records}
    assert pairs == {
        "What causes the seasons on Earth?": (
            "The tilt of Earth's axis (about 23.4 degrees) changes how directly sunlight hits each hemisphere through the year.",
            "Earth is closer to the sun in summer.",
        ),
        "Name three primary colors.": ("Red, blue and yellow.", "Green, purple and orange."),
        "Translate 'hello' to Spanish.": ("Hola.", "Bonjour."),
        # The rejected answer (correctness 3) outscores the chosen one.
        "How many continents are there?": (
            "Seven.",
            "There are seven continents, though some models count six by joining Europe and Asia or the Americas.",
        ),
        "What is the chemical symbol for gold?": ("Au, from the Latin aurum.", "Ag."),
    }
    assert counts.filtered["no correct and other response"] == 2  # the limerick; Italy (all correctness 4)


def test_dpo_helpsteer_reference_pair_is_replaced_once_by_a_higher_score():
    from bagel_dpo_builtin.helpsteer import Rated, reference_pair

    rows = [Rated("low", 15, 3), Rated("first", 12, 4), Rated("better", 14, 4), Rated("best", 20, 4)]
    # "better" outscores the first correct answer: it is chosen, "first" rejected, and the
    # reference stopped there ("best" never seen).
    assert reference_pair(rows, 4) == ("better", "first")
    assert reference_pair([Rated("first", 12, 4), Rated("same", 12, 4)], 4) is None  # no rejected
    # An empty rejected answer did not count (a truthiness test): the next one is taken.
    assert reference_pair([Rated("", 3, 1), Rated("ok", 12, 4), Rated("no", 2, 0)], 4) == ("ok", "no")
