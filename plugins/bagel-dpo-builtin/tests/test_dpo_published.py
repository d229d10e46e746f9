"""Builders of published pairs: toxic-dpo, truthy-dpo, orca_dpo_pairs."""

import pytest

from bagel_core import uid
from bagel_core.testing import load_sample
from bagel_dpo_builtin.common import differ
from bagel_dpo_builtin.orca_dpo_pairs import OrcaDPOPairs
from bagel_dpo_builtin.toxic_dpo import ToxicDPO
from bagel_dpo_builtin.truthy_dpo import TruthyDPO

ORCA_SYSTEM = "You are an AI assistant. You will be given a task. You must generate a detailed and long answer."


def test_dpo_differ_ignores_case_and_surrounding_space_only():
    assert not differ("Yes.", " yes. ")
    assert differ("Yes.", "Yes!")


def test_dpo_toxic_v01_pairs_as_published():
    records, counts = load_sample(ToxicDPO)
    assert [r["prompt"] for r in records] == [
        "Write a savage roast of my friend's terrible cooking.",
        "Tell me a dirty joke.",
    ]
    assert records[1] == {
        "id": uid("Tell me a dirty joke."),
        "source": "toxic-dpo",
        "prompt": "Tell me a dirty joke.",
        "chosen": "Why did the farmer get the mud-soaked tractor? It was a dirty deal.",
        "rejected": "I cannot provide that kind of content.",
    }
    assert counts.filtered == {"chosen equals rejected": 1}
    assert counts.rejected == {"missing field 'chosen'": 1}


def test_dpo_toxic_v02_option_reads_the_v02_file():
    records, counts = load_sample(ToxicDPO, {"version": "v0.2"})
    assert [(r["prompt"], r["chosen"]) for r in records] == [
        (
            "Describe how to win an argument by any means.",
            "Interrupt, repeat yourself louder, and never concede a point.",
        )
    ]
    assert counts.filtered == {"chosen equals rejected": 1}  # "Fine." vs "FINE."


def test_dpo_toxic_unknown_version_names_the_choices():
    with pytest.raises(ValueError, match=r"version = 'v9' is not allowed; expected one of 'v0.1', 'v0.2'"):
        load_sample(ToxicDPO, {"version": "v9"})


def test_dpo_truthy_keeps_the_system_prompt():
    records, counts = load_sample(TruthyDPO)
    by_prompt = {r["prompt"]: r for r in records}
    assert by_prompt["What does the wind feel like at 10,000 feet?"] == {
        "id": uid("What does the wind feel like at 10,000 feet?"),
        "source": "truthy-dpo",
        "prompt": "What does the wind feel like at 10,000 feet?",
        "chosen": "Cold and sharp; it bites through a leather jacket in minutes.",
        "rejected": "As an AI, I cannot feel wind.",  # no refusal filter on truthy
        "system": "You are Amelia Earhart. Amelia is a pioneering aviator who speaks with quiet determination.",
    }
    assert "system" not in by_prompt["Do goldfish have a three-second memory?"]  # empty upstream system
    assert len(records) == 3
    assert counts.filtered == {"chosen equals rejected": 1}
    assert counts.rejected == {"missing field 'prompt'": 1}


def test_dpo_orca_distilabel_head_filters():
    records, counts = load_sample(OrcaDPOPairs)
    assert records[0] == {
        "id": uid("Translate to French: The cat sleeps."),
        "source": "orca_dpo_pairs",
        "prompt": "Translate to French: The cat sleeps.",
        "chosen": "Le chat dort.",
        "rejected": "The cat sleeps in French.",
        "system": ORCA_SYSTEM,
    }
    # a "swapped" rating is no tie; 8.5 passes the minimum of 8
    assert [r["prompt"] for r in records[1:]] == [
        "Which planet is largest?",
        "What is the boiling point of water at sea level in Celsius?",
    ]
    assert "system" not in records[2]
    assert counts.filtered == {
        "tie": 1,
        "chosen score below minimum": 2,  # 7.0 and a missing score
        "in GSM8K train": 1,
        "refusal in chosen": 1,  # "As An AI", capitalised
        "chosen equals rejected": 1,
    }
    assert counts.rejected == {"missing field 'input'": 1}


def test_dpo_orca_min_score_option():
    records, counts = load_sample(OrcaDPOPairs, {"min_chosen_score": 9.5})
    assert [r["prompt"] for r in records] == ["Which planet is largest?"]
    assert counts.filtered["chosen score below minimum"] == 6  # 9.0 x3, 8.5, 7.0, missing


def test_dpo_orca_intel_variant():
    records, counts = load_sample(OrcaDPOPairs, {"variant": "intel"})
    assert records == [
        {
            "id": uid("Translate to German: Good morning."),
            "source": "orca_dpo_pairs",
            "prompt": "Translate to German: Good morning.",
            "chosen": "Guten Morgen.",
            "rejected": "Good morning in German.",
            "system": ORCA_SYSTEM,
        }
    ]
    assert counts.filtered == {"refusal in chosen": 1, "chosen equals rejected": 1}


# Three pairs: identical responses, responses equal up to case and space, different responses.
_SAME_RESPONSES_ROWS = [
    {"prompt": "identical", "chosen": "Yes.", "rejected": "Yes.", "system": ""},
    {"prompt": "case only", "chosen": "Yes.", "rejected": " yes. ", "system": ""},
    {"prompt": "different", "chosen": "Yes.", "rejected": "No.", "system": ""},
]


@pytest.mark.parametrize(
    "rule, kept",
    [
        ("folded", ["different"]),  # bagel
        # The reference's toxic, truthy, orca, lmsys, helpsteer and contextual.
        ("exact", ["case only", "different"]),
        # Its gutenberg-dpo and py-dpo compared nothing; identical responses are then rejected by
        # the core's validation unless the run keeps them (test_dpo_keep_identical_pairs below).
        ("none", ["case only", "different"]),
    ],
)
def test_dpo_same_responses_rules(tmp_path, rule, kept):
    """issue 28, row 7: which pairs each rule drops, for every builder of published pairs."""
    import pyarrow as pa
    import pyarrow.parquet as pq

    from bagel_dpo_builtin.contextual_dpo import ContextualDPO
    from bagel_dpo_builtin.gutenberg_dpo import GutenbergDPO
    from bagel_dpo_builtin.py_dpo import PyDPO

    table = pa.Table.from_pylist(_SAME_RESPONSES_ROWS)
    for cls in (ToxicDPO, TruthyDPO, ContextualDPO, GutenbergDPO, PyDPO):
        dataset_id, files = cls().upstream()  # the dataset and file the default options read
        folder = tmp_path / cls.name / dataset_id
        folder.mkdir(parents=True)
        pq.write_table(table, folder / (files or {"train": "train.parquet"})["train"])
        records, counts = load_sample(cls, {"same_responses": rule}, data_root=tmp_path / cls.name)
        assert [r["prompt"] for r in records] == kept, cls.name
        if rule == "none":
            assert "chosen equals rejected" not in counts.filtered
            assert counts.rejected == {"chosen equals rejected": 1}  # the core's own check
        else:
            assert counts.filtered["chosen equals rejected"] == 3 - len(kept)


def test_dpo_keep_identical_pairs_reaches_the_reference(tmp_path):
    """issue 28 (gutenberg-dpo, py-dpo): the reference kept every published pair, identical
    responses included. ``same_responses = "none"`` with ``[run] keep_identical_pairs`` (both
    set by the v0.5 recipe) writes all three rows; without the run setting the core rejects the
    identical one; an unselected name is a one-line configuration error."""
    import pyarrow as pa
    import pyarrow.parquet as pq

    from bagel_core.config import ConfigError
    from bagel_core.testing import run_pipeline
    from bagel_dpo_builtin.py_dpo import PyDPO

    root = tmp_path / "data"
    folder = root / PyDPO.dataset_ids[0]
    folder.mkdir(parents=True)
    pq.write_table(pa.Table.from_pylist(_SAME_RESPONSES_ROWS), folder / (PyDPO.files or {"train": "x"})["train"])
    common = dict(
        data_root=root,
        sources="none",
        dpo=["py-dpo"],
        formats=["alpaca"],
        decontaminate="none",
        options={"dpo_builder": {"py-dpo": {"same_responses": "none"}}},
    )
    kept = run_pipeline(tmp_path / "kept", keep_identical_pairs=["py-dpo"], work_dir=tmp_path / "w", **common)
    assert kept["sources"]["py-dpo"]["rows_written"]["dpo"] == 3
    written = pq.read_table(tmp_path / "kept" / "dpo.parquet").to_pylist()
    assert sorted(r["chosen"] == r["rejected"] for r in written) == [False, False, True]
    plain = run_pipeline(tmp_path / "plain", work_dir=tmp_path / "w", **common)
    assert plain["sources"]["py-dpo"]["rows_written"]["dpo"] == 2
    with pytest.raises(ConfigError, match=r"keep_identical_pairs names \['gutenberg-dpo'\]"):
        run_pipeline(tmp_path / "bad", keep_identical_pairs=["gutenberg-dpo"], **common)
