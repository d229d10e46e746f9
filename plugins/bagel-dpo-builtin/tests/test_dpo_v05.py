"""The later reference's builders: contextual-dpo, py-dpo, gutenberg-dpo (with its SFT copy),
and toxic-dpo's SFT copy option."""

from bagel_core import uid, validate_record
from bagel_core.testing import load_sample
from bagel_dpo_builtin.contextual_dpo import ContextualDPO
from bagel_dpo_builtin.gutenberg_dpo import GutenbergDPO
from bagel_dpo_builtin.py_dpo import PyDPO
from bagel_dpo_builtin.toxic_dpo import ToxicDPO

RAG = (
    "BEGININPUT\nBEGINCONTEXT\ndate: 2021-01-01\nurl: https://web.site/123\nENDCONTEXT\n"
    "In a shocking turn of events, blueberries are now green, but will be sticking with the same name.\n"
    "ENDINPUT\nBEGININSTRUCTION\nWhat color are blueberries? Source?\nENDINSTRUCTION"
)


def test_contextual_dpo_pairs_as_published():
    records, counts = load_sample(ContextualDPO)
    assert records[0] == {
        "id": uid(RAG),
        "source": "contextual-dpo",
        "prompt": RAG,
        "chosen": "Blueberries are now green.\nSource:\ndate: 2021-01-01\nurl: https://web.site/123",
        "rejected": "Blueberries are blue, as they always have been.",
    }
    assert records[1]["chosen"].startswith("The provided text does not say")  # the unanswerable case
    assert len(records) == 2
    assert counts.filtered == {"chosen equals rejected": 1}
    assert counts.rejected == {"missing field 'rejected'": 1}


def test_py_dpo_pairs_and_near_equal_answers():
    records, counts = load_sample(PyDPO)
    assert [r["prompt"] for r in records] == ["Write a python function that returns the n-th Fibonacci number."]
    assert records[0]["source"] == "py-dpo" and "conversations" not in records[0]
    assert counts.filtered == {"chosen equals rejected": 1}  # "s[::-1]" vs "S[::-1] "
    assert counts.rejected == {"missing field 'prompt'": 1}


def test_gutenberg_dpo_pairs_are_sft_items_too():
    records, counts = load_sample(GutenbergDPO)
    first = records[0]
    assert first["source"] == "gutenberg-dpo" and first["id"] == uid(first["prompt"])
    assert first["conversations"] == [
        {"from": "human", "value": first["prompt"]},
        {"from": "gpt", "value": first["chosen"]},
    ]
    assert all(validate_record(r) is None for r in records)
    assert len(records) == 2 and counts.filtered == {"chosen equals rejected": 1}
    plain, _ = load_sample(GutenbergDPO, {"sft_copy": False})
    assert all("conversations" not in r for r in plain)


def test_toxic_dpo_sft_copy_is_an_option_off_by_default():
    default, _ = load_sample(ToxicDPO, {"version": "v0.2"})
    assert all("conversations" not in r for r in default)
    copied, _ = load_sample(ToxicDPO, {"version": "v0.2", "sft_copy": True})
    pair = copied[0]
    assert pair["conversations"] == [
        {"from": "human", "value": pair["prompt"]},
        {"from": "gpt", "value": pair["chosen"]},
    ]
    assert [r["prompt"] for r in copied] == [r["prompt"] for r in default]
