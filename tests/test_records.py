"""Records, ids, validation reasons, refusals and seeded randomness."""

import uuid

import pytest

from bagel_core import Reason, as_conversation, dpo_pair, is_refusal, plain_text, rng, sft_item, uid, validate_record
from bagel_core.stages.load import _table as records_table


def test_uid_is_uuid5_of_the_instruction_in_the_oid_namespace():
    assert uid("What is 2+2?") == str(uuid.uuid5(uuid.UUID("6ba7b812-9dad-11d1-80b4-00c04fd430c8"), "What is 2+2?"))
    record = as_conversation("s", "What is 2+2?", "4", system="Be terse.")
    assert record["id"] == uid("What is 2+2?")  # neither the system prompt nor the answer count
    assert record["conversations"][0] == {"from": "system", "value": "Be terse."}
    multi = sft_item(
        "s",
        [
            {"from": "human", "value": "a"},
            {"from": "gpt", "value": "b"},
            {"from": "human", "value": "c"},
            {"from": "gpt", "value": "d"},
        ],
    )
    assert multi["id"] == uid("a\nc")
    assert dpo_pair("s", "p", "c", "r")["id"] == uid("p")
    assert plain_text("s", "some text")["id"] == uid("some text")


H = lambda v: {"from": "human", "value": v}
G = lambda v: {"from": "gpt", "value": v}
S = lambda v: {"from": "system", "value": v}


@pytest.mark.parametrize(
    "record, reason",
    [
        ({"id": "x", "source": "s", "conversations": [H("q"), G("a")]}, None),
        ({"id": "x", "source": "s", "conversations": [S("sys"), H("q"), G("a"), H("q2"), G("a2")]}, None),
        ({"id": "x", "source": "s", "text": "plain"}, None),
        ({"id": "x", "source": "s", "prompt": "p", "chosen": "c", "rejected": "r"}, None),
        ({"source": "s", "conversations": [H("q"), G("a")]}, Reason.MISSING_FIELD),
        ({"id": "x", "source": "s"}, Reason.MISSING_FIELD),
        ({"id": "x", "source": "s", "conversations": [H("q"), G("  ")]}, Reason.EMPTY_TEXT),
        ({"id": "x", "source": "s", "conversations": [H("q"), G(3)]}, Reason.NON_STRING),
        ({"id": "x", "source": "s", "conversations": [H("q"), {"from": "gpt"}]}, Reason.MISSING_FIELD),
        ({"id": "x", "source": "s", "conversations": [G("a"), H("q")]}, Reason.BAD_ROLE_ORDER),
        ({"id": "x", "source": "s", "conversations": [H("q"), H("q2"), G("a")]}, Reason.BAD_ROLE_ORDER),
        ({"id": "x", "source": "s", "conversations": [H("q"), S("late system"), G("a")]}, Reason.BAD_ROLE_ORDER),
        ({"id": "x", "source": "s", "conversations": [H("q"), G("a"), H("dangling")]}, Reason.BAD_ROLE_ORDER),
        ({"id": "x", "source": "s", "conversations": [S("sys"), H("q")]}, Reason.NO_ASSISTANT_TURN),
        ({"id": "x", "source": "s", "conversations": [{"from": "user", "value": "q"}, G("a")]}, Reason.UNKNOWN_ROLE),
        (
            {"id": "x", "source": "s", "prompt": "p", "chosen": "same", "rejected": "same"},
            Reason.CHOSEN_EQUALS_REJECTED,
        ),
        ({"id": "x", "source": "s", "prompt": "p", "chosen": "c"}, Reason.MISSING_FIELD),
        ({"id": "x", "source": "s", "prompt": "", "chosen": "c", "rejected": "r"}, Reason.EMPTY_TEXT),
        ("not a dict", Reason.NOT_A_RECORD),
    ],
)
def test_validation_names_the_reason(record, reason):
    assert validate_record(record) == reason


def test_records_to_arrow_keep_turns_and_drop_extra_keys():
    """The load stage's shard table (what every record goes through)."""
    record = sft_item("s", [{"from": "human", "value": "q", "weight": 0}, G("a")])
    table = records_table([record, dpo_pair("s", "p", "c", "r", system="sys")], "loader")
    rows = table.to_pylist()
    assert rows[0]["conversations"] == [{"from": "human", "value": "q"}, {"from": "gpt", "value": "a"}]
    assert rows[1]["system"] == "sys" and rows[1]["conversations"] is None
    assert [r["origin"] for r in rows] == ["loader", "loader"]


@pytest.mark.parametrize(
    "text, refused",
    [
        ("As an AI language model, I cannot help.", True),  # the reference missed capitalised forms
        ("I'm sorry, but OPENAI policy forbids it.", True),
        ("It is IMPORTANT TO NOTE that...", True),
        ("Please note that this is a summary.", True),
        ("I can't help with that request.", True),
        ("Paris is the capital of France.", False),
        ("The language of the model railway club is English.", False),
    ],
)
def test_refusals_match_case_insensitively(text, refused):
    assert is_refusal(text) is refused


def test_refusal_pattern_sets():
    assert is_refusal("That would be illegal.", patterns="head")
    assert not is_refusal("That would be illegal.", patterns="v0.2")
    with pytest.raises(ValueError, match="unknown refusal pattern set"):
        is_refusal("x", patterns="v9")  # type: ignore[arg-type]


def test_reference_refusal_matching_is_case_sensitive_from_the_third_character():
    """The ``-reference`` sets reproduce the reference's bug (``re.I`` passed as ``pos``)."""
    for text in ("As an AI, I cannot help.", "I was trained by OpenAI.", "openai made me"):
        assert is_refusal(text, patterns="v0.2")
        assert not is_refusal(text, patterns="v0.2-reference")
    assert is_refusal("Well, as an ai language model I cannot.", patterns="v0.2-reference")
    assert is_refusal("I was trained by openai.", patterns="v0.2-reference")
    assert is_refusal("That is illegal.", patterns="head-reference") and not is_refusal(
        "That is Illegal.", patterns="head-reference"
    )


def test_reference_matching_misses_refusals_in_real_model_outputs(shared_data):
    """805 real GPT-4 answers (AlpacaEval's gpt4_1106_preview outputs): the reference's matching
    flags 69, the case-insensitive filter 112 (1.6x); davinci-003's 805 answers: none with v0.2's
    patterns either way. The figures docs/fidelity.md quotes."""
    import json

    folder = shared_data / "benchmarks" / "alpaca_eval"
    gpt4 = [r["output"] for r in json.loads((folder / "alpaca_eval_gpt4_1106_preview_model_outputs.json").read_text())]
    davinci = [
        r["output"] for r in json.loads((folder / "alpaca_eval_text_davinci_003_model_outputs.json").read_text())
    ]
    flagged = lambda texts, patterns: sum(is_refusal(t, patterns) for t in texts)  # noqa: E731
    assert (len(gpt4), flagged(gpt4, "v0.2"), flagged(gpt4, "v0.2-reference")) == (805, 112, 69)
    assert (flagged(gpt4, "head"), flagged(gpt4, "head-reference")) == (129, 88)
    assert (flagged(davinci, "v0.2"), flagged(davinci, "v0.2-reference")) == (0, 0)


def _repeats_nested_in_unbounded_repeats(pattern: str) -> list[str]:
    """The repeats of ``pattern`` inside an unbounded repeat (``(\\w+\\s)+``): the shape whose
    backtracking grows with a power of the text's length on a near miss."""
    from re import _constants as sre
    from re import _parser as parser

    found: list[str] = []

    def walk(items, within_unbounded: bool) -> None:
        for op, arg in items:
            if op in (sre.MAX_REPEAT, sre.MIN_REPEAT, sre.POSSESSIVE_REPEAT):
                low, high, sub = arg
                if within_unbounded and high > 1:
                    found.append(f"{{{low},{high}}}")
                walk(sub, within_unbounded or high == sre.MAXREPEAT)
            elif op is sre.SUBPATTERN:
                walk(arg[-1], within_unbounded)
            elif op is sre.BRANCH:
                for branch in arg[1]:
                    walk(branch, within_unbounded)

    walk(parser.parse(pattern), False)
    return found


def test_refusal_patterns_match_in_linear_time_on_long_texts():
    """No pattern nests a repeat inside an unbounded one (the reference's ``(\\w+\\s)+`` did, and
    backtracks quadratically on a long near miss); such a near miss is matched, and correctly."""
    from bagel_core.refusals import PATTERNS

    assert _repeats_nested_in_unbounded_repeats(r"(can('t| ?not)|w(on't|will not)|unable.?) (\w+\s)+(provide)")
    for name, patterns in PATTERNS.items():
        for pattern in patterns:
            assert _repeats_nested_in_unbounded_repeats(pattern) == [], (name, pattern)
    assert not is_refusal("I cannot " + "really truly " * 20000 + "do it")
    assert is_refusal("I cannot " + "really truly " * 10 + "provide that")


def test_randomness_depends_only_on_seed_key_and_purpose():
    assert rng.uniform(1, "item", "p") == rng.uniform(1, "item", "p")
    assert rng.uniform(1, "item", "p") != rng.uniform(2, "item", "p")
    assert rng.uniform(1, "item", "p") != rng.uniform(1, "item", "q")
    draws = [rng.coin(3, str(i), "c", 0.25) for i in range(4000)]
    assert 0.2 < sum(draws) / len(draws) < 0.3
    keys = [str(i) for i in range(100)]
    assert rng.sample_keys(keys, 10, 5, "s") == rng.sample_keys(list(reversed(keys)), 10, 5, "s")
    assert len(rng.sample_keys(keys, 10, 5, "s")) == 10 and len(rng.sample_keys(keys, 500, 5, "s")) == 100
    strata = {"a": [f"a{i}" for i in range(80)], "b": [f"b{i}" for i in range(20)]}
    picked = rng.stratified_sample(strata, 10, 1, "t")
    assert len(picked) == 10 and sum(k.startswith("a") for k in picked) == 8


def test_fast_uid_equals_stdlib_uuid5_on_varied_texts():
    texts = ["", " ", "ünïcødé ✓ 漢字", "x" * 100_000, "line\nbreaks\r\n", "\x00nul"] + [
        f"question {i}?" for i in range(2000)
    ]
    for text in texts:
        assert uid(text) == str(uuid.uuid5(uuid.NAMESPACE_OID, text))


def test_refusal_matching_equals_ignorecase_matching():
    import re

    from bagel_core.refusals import PATTERNS

    texts = [
        "As An Ai, I Won't Help With That.",
        "I'm UNABLE TO provide your data",
        "ViOlAtEs My rules",
        "I DON'T HAVE PERSONAL feelings",
        "It is Important To Note",
        "Perfectly normal answer.",
        "I can not really help with that",
        "LARGE LANGUAGE models",
        "Ünïcode ÄS AN AI text",
        "",
    ]
    for name, patterns in PATTERNS.items():
        if name.endswith("-reference"):
            continue  # the reference's case-sensitive matching, tested above
        reference = re.compile("|".join(f"(?:{p})" for p in patterns), re.IGNORECASE)
        for text in texts:
            assert is_refusal(text, name) == (reference.search(text) is not None), (name, text)


def test_streamed_bottom_k_keeps_what_sample_keys_draws():
    keys = [f"item-{i}" for i in range(5000)]
    for n in (0, 1, 37, 4999, 5000, 6000):
        sample = rng.BottomK(n, 11, "cap")
        for k in keys:
            sample.offer(k, k)
        kept = sample.items()
        assert set(kept) == rng.sample_keys(keys, n, 11, "cap")
        kept_set = set(kept)  # once: rebuilt per key it made this test take 20-50 s
        assert kept == [k for k in keys if k in kept_set]  # arrival order
        assert sample.dropped == max(len(keys) - n, 0)
