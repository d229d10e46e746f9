"""winogrande: the sentence verbatim -> the option named by the answer."""

from sources_testkit import REAL, by_instruction, load, read_jsonl, turns, write_parquet

from bagel_core import uid
from bagel_sources_builtin.winogrande import Winogrande

SMALLER = "He never comes to my home, but I always go to his house because the _ is smaller."
BIGGER = "He never comes to my home, but I always go to his house because the _ is bigger."


def test_exact_conversations_for_both_answers():
    records, _ = load(Winogrande)
    found = by_instruction(records)
    assert turns(found[SMALLER]) == [("human", SMALLER), ("gpt", "home")]
    assert turns(found[BIGGER]) == [("human", BIGGER), ("gpt", "house")]
    assert found[SMALLER]["id"] == uid(SMALLER)


def test_empty_or_null_answer_is_rejected_not_option2():
    records, counts = load(Winogrande)
    assert len(records) == 8
    assert counts.rejected == {"bad value": 1, "missing field 'answer'": 1}


def test_cap():
    records, counts = load(Winogrande, max_items=3)
    assert len(records) == 3 and counts.filtered == {"cap": 5}
    assert Winogrande.max_items == 10_000


def test_real_upstream_rows(tmp_path):
    raw = read_jsonl(REAL / "winogrande" / "hf_datasets_dummy" / "train_xl.head.jsonl")
    write_parquet(
        tmp_path / "allenai/winogrande/winogrande_xl/train-00000-of-00001.parquet",
        [{k: r[k] for k in ("sentence", "option1", "option2", "answer")} for r in raw],
    )
    records, counts = load(Winogrande, root=tmp_path)
    assert len(records) == len(raw) and counts.rejected == {}
    assert [r["conversations"][1]["value"] for r in records] == [r["option" + r["answer"]] for r in raw]
    assert turns(records[2])[1] == ("gpt", "Logan")
