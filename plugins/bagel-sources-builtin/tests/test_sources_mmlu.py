"""mmlu: auxiliary_train rows -> lettered options, '<letter> <text>' or the letter-only prefix."""

import csv

from sources_testkit import REAL, by_instruction, load, turns, write_parquet

from bagel_core import uid
from bagel_sources_builtin.choices import LETTER_ONLY_PREFIX
from bagel_sources_builtin.mmlu import Mmlu

FEVER = (
    "Which factor will most likely cause a person to develop a fever?\nA. a leg muscle relaxing after exercise\n"
    "B. a bacterial population in the bloodstream\nC. several viral particles on the skin\n"
    "D. carbohydrates being digested in the stomach"
)


def test_full_answer_variant():
    records, _ = load(Mmlu, letter_only_probability=0.0)
    fever = by_instruction(records)[FEVER]
    assert turns(fever) == [("human", FEVER), ("gpt", "B a bacterial population in the bloodstream")]
    assert fever["id"] == uid(FEVER)
    # up to seven choices get letters A-G
    assert turns(by_instruction(records)["Pick the warm colour.\nA. blue\nB. red"])[1] == ("gpt", "B red")
    assert any(i.endswith("\nG. July") for i in by_instruction(records))


def test_letter_only_variant_is_a_prefix():
    records, _ = load(Mmlu, letter_only_probability=1.0)
    instruction = f"{LETTER_ONLY_PREFIX}\n{FEVER}"
    assert LETTER_ONLY_PREFIX == "Answer with only the letter of the answer."
    record = by_instruction(records)[instruction]
    assert turns(record) == [("human", instruction), ("gpt", "B")]
    assert record["id"] == uid(instruction)


def test_more_than_seven_choices_are_filtered_and_bad_rows_rejected():
    records, counts = load(Mmlu)
    assert len(records) == 9
    assert counts.filtered == {"more than 7 choices": 1}
    # answer 7 of four choices; null question; null answer
    assert counts.rejected == {"bad value": 1, "missing field 'question'": 1, "missing field 'answer'": 1}


def test_cap_is_a_seeded_sample():
    records, counts = load(Mmlu, max_items=4)
    assert len(records) == 4
    assert counts.filtered["cap"] == 5
    assert load(Mmlu, max_items=4)[0] == records
    other_seeds = [{r["id"] for r in load(Mmlu, seed=s, max_items=4)[0]} for s in (1, 2, 3)]
    assert any(ids != {r["id"] for r in records} for ids in other_seeds)
    assert Mmlu.max_items == 20_000


def test_real_upstream_rows(tmp_path):
    # hendrycks' raw auxiliary_train CSV (no header, letter answer) in cais/mmlu's parquet schema
    rows = []
    for name in ("auxiliary_train_science_elementary.csv", "auxiliary_train_science_middle.csv"):
        with open(REAL / "mmlu" / name, encoding="utf-8", newline="") as handle:
            for question, *choices, answer in csv.reader(handle):
                rows.append({"question": question, "subject": "", "choices": choices, "answer": "ABCD".index(answer)})
    write_parquet(tmp_path / "cais/mmlu/all/auxiliary_train-00000-of-00001.parquet", rows)
    records, counts = load(Mmlu, root=tmp_path, letter_only_probability=0.0)
    assert len(records) == len(rows) == 617 + 601 and counts.rejected == {}
    assert turns(records[0]) == [
        (
            "human",
            "Sir Isaac Newton determined that white light is made up of all the colors of the rainbow. "
            "What did he use to discover this phenomenon?\nA. a prism\nB. a telescope\nC. a microscope\nD. a magnifying glass",
        ),
        ("gpt", "A a prism"),
    ]
    capped, counts = load(Mmlu, root=tmp_path, max_items=1000)
    assert len(capped) == 1000 and counts.filtered == {"cap": len(rows) - 1000}
    share = sum(r["conversations"][0]["value"].startswith(LETTER_ONLY_PREFIX) for r in capped) / len(capped)
    assert 0.4 < share < 0.6
