"""piqa: the authors' raw train.jsonl + train-labels.lst -> goal with solutions A/B."""

import shutil

from sources_testkit import REAL, by_instruction, load, turns

from bagel_core import uid
from bagel_sources_builtin.choices import LETTER_ONLY_SUFFIX
from bagel_sources_builtin.piqa import Piqa

BUTTER = "When boiling butter, when it's ready, you can\nA. Pour it onto a plate\nB. Pour it into a jar"


def test_full_answer_keeps_the_period():
    records, _ = load(Piqa, letter_only_probability=0.0)
    butter = by_instruction(records)[BUTTER]
    assert turns(butter) == [("human", BUTTER), ("gpt", "B. Pour it into a jar")]
    assert butter["id"] == uid(BUTTER) and butter["source"] == "piqa"


def test_letter_only_variant():
    records, _ = load(Piqa, letter_only_probability=1.0)
    instruction = f"{BUTTER}\n{LETTER_ONLY_SUFFIX}"
    assert turns(by_instruction(records)[instruction]) == [("human", instruction), ("gpt", "B")]


def test_default_probability_is_a_quarter():
    assert Piqa.Options().letter_only_probability == 0.25


def test_malformed_rows_are_counted():
    records, counts = load(Piqa)
    assert len(records) == 8
    assert counts.rejected == {
        "bad value": 1,  # label "2"
        "invalid JSON": 1,  # a truncated JSON line
        "wrong type": 1,  # sol1 is a number
        "missing field 'goal'": 1,
        "missing field 'label'": 1,  # a row after the last label
    }


def test_real_upstream_rows(tmp_path):
    folder = tmp_path / "ybisk" / "piqa"
    folder.mkdir(parents=True)
    shutil.copy(REAL / "piqa/hf_datasets_dummy/train.head.jsonl", folder / "train.jsonl")
    shutil.copy(REAL / "piqa/hf_datasets_dummy/train-labels.head.lst", folder / "train-labels.lst")
    records, counts = load(Piqa, root=tmp_path, letter_only_probability=0.0)
    labels = (folder / "train-labels.lst").read_text().split()
    assert len(records) == len(labels) == 5 and counts.rejected == {}
    assert turns(records[1]) == [
        (
            "human",
            "To permanently attach metal legs to a chair, you can\n"
            "A. Weld the metal together to get it to stay firmly in place\n"
            "B. Nail the metal together to get it to stay firmly in place",
        ),
        ("gpt", "A. Weld the metal together to get it to stay firmly in place"),
    ]
