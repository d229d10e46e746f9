"""ai2_arc: ARC-Challenge rows -> question, lettered options, answer key (+ text)."""

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
from bagel_sources_builtin.ai2_arc import Ai2Arc
from bagel_sources_builtin.choices import LETTER_ONLY_SUFFIX

PLANT = "Which form of energy does a green plant capture to make its food?\nA. heat\nB. sunlight\nC. sound\nD. wind"
WATER = "Which process moves water from the ocean into the atmosphere?\n1. condensation\n2. precipitation\n3. runoff\n4. evaporation"


def test_full_answer_variant():
    records, _ = load(Ai2Arc, letter_only_probability=0.0)
    plant = by_instruction(records)[PLANT]
    assert turns(plant) == [("human", PLANT), ("gpt", "B sunlight")]
    assert plant["id"] == uid(PLANT) and plant["source"] == "ai2_arc"
    # digit labels keep their digits; five options keep all five
    assert turns(by_instruction(records)[WATER]) == [("human", WATER), ("gpt", "4 evaporation")]
    assert "E. a stopwatch" in next(i for i in by_instruction(records) if i.startswith("Which tool"))


def test_letter_only_variant_has_the_fixed_suffix_and_its_own_id():
    records, _ = load(Ai2Arc, letter_only_probability=1.0)
    instruction = f"{PLANT}\n{LETTER_ONLY_SUFFIX}"
    plant = by_instruction(records)[instruction]
    assert LETTER_ONLY_SUFFIX == "Only output the letter of the correct answer."
    assert turns(plant) == [("human", instruction), ("gpt", "B")]
    assert plant["id"] == uid(instruction)
    assert all(r["conversations"][0]["value"].endswith(LETTER_ONLY_SUFFIX) for r in records)


def test_seeded_coin_mixes_variants_reproducibly():
    first, _ = load(Ai2Arc, seed=1)
    again, _ = load(Ai2Arc, seed=1)
    assert first == again
    letter_only = [r for r in first if r["conversations"][0]["value"].endswith(LETTER_ONLY_SUFFIX)]
    assert 0 < len(letter_only) < len(first)
    assert all(len(r["conversations"][1]["value"]) == 1 for r in letter_only)


def test_malformed_rows_are_counted():
    records, counts = load(Ai2Arc)
    assert len(records) == 10
    # answer key not among the labels, labels/texts of different lengths; null question, null choices
    assert counts.rejected == {"bad value": 2, "missing field 'question'": 1, "missing field 'choices'": 1}
    assert counts.filtered == {}


def test_real_upstream_rows(tmp_path):
    raw = read_jsonl(REAL / "ai2_arc" / "hf_datasets_dummy" / "ARC-Challenge-Train.head.jsonl")
    write_parquet(tmp_path / "allenai/ai2_arc/ARC-Challenge/train-00000-of-00001.parquet", arc_style(raw))
    records, counts = load(Ai2Arc, root=tmp_path, letter_only_probability=0.0)
    assert len(records) == len(raw) and counts.rejected == {}
    first = records[0]["conversations"]
    assert first[0]["value"].endswith(
        "Which statement best explains why the sun appears to move across the sky each day?\n"
        "A. The sun revolves around Earth.\nB. Earth rotates around the sun.\n"
        "C. The sun revolves on its axis.\nD. Earth rotates on its axis."
    )
    assert first[1]["value"] == "D Earth rotates on its axis."
