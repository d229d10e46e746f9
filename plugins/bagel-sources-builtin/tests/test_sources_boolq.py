"""boolq: passage + 'True or false - <question>' -> true/false."""

from sources_testkit import REAL, load, read_jsonl, turns, write_parquet

from bagel_core import uid
from bagel_sources_builtin.boolq import BoolQ

MOON = (
    "Read the passage of text provided below, then answer the question.\n\n"
    "The Moon is Earth's only natural satellite. Its diameter is about a quarter of Earth's, making it the fifth "
    "largest satellite in the Solar System.\n\nTrue or false - is the moon bigger than the earth"
)


def test_exact_conversation():
    records, _ = load(BoolQ)
    assert turns(records[0]) == [("human", MOON), ("gpt", "false")]
    assert records[0]["id"] == uid(MOON) and records[0]["source"] == "boolq"
    assert [r["conversations"][1]["value"] for r in records] == [
        "false",
        "false",
        "true",
        "true",
        "true",
        "false",
        "false",
        "true",
    ]


def test_malformed_rows_are_counted():
    records, counts = load(BoolQ)
    assert len(records) == 8
    assert counts.rejected == {"missing field 'answer'": 1, "missing field 'passage'": 1}  # null answer; null passage


def test_real_upstream_rows(tmp_path):
    raw = read_jsonl(REAL / "boolq" / "hf_datasets_dummy" / "train.head.jsonl")
    write_parquet(
        tmp_path / "google/boolq/data/train-00000-of-00001.parquet",
        [{"question": r["question"], "answer": r["answer"], "passage": r["passage"]} for r in raw],
    )
    records, counts = load(BoolQ, root=tmp_path)
    assert len(records) == len(raw) and counts.rejected == {}
    human, gpt = turns(records[0])
    assert human[1].startswith(
        "Read the passage of text provided below, then answer the question.\n\nPersian (/ˈpɜːrʒən, -ʃən/)"
    )
    assert human[1].endswith("\n\nTrue or false - do iran and afghanistan speak the same language")
    assert gpt == ("gpt", "true")
