"""openbookqa: question_stem, lettered options, answer key (+ text), like ai2_arc."""

from sources_testkit import (
    REAL,
    arc_style,
    by_instruction,
    load,
    read_jsonl,
    turns,
    write_parquet,
)

from bagel_core import uid
from bagel_sources_builtin.choices import LETTER_ONLY_SUFFIX
from bagel_sources_builtin.openbookqa import OpenBookQA

SUN = (
    "The sun is responsible for\nA. puppies learning new tricks\nB. children growing up and getting old\n"
    "C. flowers wilting in a vase\nD. plants sprouting, blooming and wilting"
)


def test_both_variants_exactly():
    full, _ = load(OpenBookQA, letter_only_probability=0.0)
    assert turns(by_instruction(full)[SUN]) == [("human", SUN), ("gpt", "D plants sprouting, blooming and wilting")]
    letter, _ = load(OpenBookQA, letter_only_probability=1.0)
    instruction = f"{SUN}\n{LETTER_ONLY_SUFFIX}"
    record = by_instruction(letter)[instruction]
    assert turns(record) == [("human", instruction), ("gpt", "D")]
    assert record["id"] == uid(instruction) and record["source"] == "openbookqa"


def test_malformed_rows_are_counted():
    records, counts = load(OpenBookQA)
    assert len(records) == 8
    assert counts.rejected == {"bad value": 1, "missing field 'question_stem'": 1}  # key "Z"; null question_stem


def test_real_upstream_rows(tmp_path):
    raw = read_jsonl(REAL / "openbookqa" / "hf_datasets_dummy" / "Main-train.head.jsonl")
    rows = [{**r, "question_stem": r.pop("question")} for r in arc_style(raw)]
    write_parquet(tmp_path / "allenai/openbookqa/main/train-00000-of-00001.parquet", rows)
    records, counts = load(OpenBookQA, root=tmp_path, letter_only_probability=0.0)
    assert len(records) == len(raw) and counts.rejected == {}
    assert turns(records[1]) == [
        ("human", "Which organism cannot specialize?\nA. mammal\nB. plant\nC. fish\nD. protozoa"),
        ("gpt", "D protozoa"),
    ]
