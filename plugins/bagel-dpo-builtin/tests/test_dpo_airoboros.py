"""airoboros rewrites: the join of airoboros 3.x with airoboros-gpt4-m2.0."""

import json
import shutil

import pytest

from bagel_core import DatasetUnavailable, uid
from bagel_core.testing import load_sample
from bagel_dpo_builtin import SAMPLES
from bagel_dpo_builtin.airoboros_rewrites import AiroborosRewrites, key

POEM = "The sea rolls in with silver light,\nIt hums beneath the moon all night,\nAnd every wave that finds the shore\nReturns to sing of depths once more."


def test_dpo_airoboros_key_normalises_case_and_space():
    assert key("  Write a poem about the SEA. ") == "write a poem about the sea."


def test_dpo_airoboros_exact_pairs():
    records, _ = load_sample(AiroborosRewrites)
    assert records[0] == {
        "id": uid("Write a poem about the sea."),
        "source": "airoboros_writing",
        "prompt": "Write a poem about the sea.",  # as written, not normalised
        "chosen": POEM,
        "rejected": "The sea is blue and wide.",
        "system": "You are a poet who writes in rhyming quatrains.",
    }
    # No system turn: considered too (the reference skipped such rows); the later duplicate
    # of the old instruction wins.
    assert records[1]["source"] == "airoboros_roleplay"
    assert records[1]["rejected"] == "Ahoy there, new sailor, welcome aboard!"
    assert "system" not in records[1]
    # A multi-turn roleplay pairs on its first exchange.
    assert (records[2]["prompt"], records[2]["chosen"]) == (
        "Introduce yourself, knight.",
        "I am Sir Aldric of the Northern March, sworn to guard this road.",
    )
    assert len(records) == 3


def test_dpo_airoboros_filters_and_malformed_rows():
    _, counts = load_sample(AiroborosRewrites)
    assert counts.filtered == {
        "category not rewritten": 2,  # coding (even though m2.0 has it) and general
        "not in old set": 2,  # unknown instruction; old answer of another category
        "rewrite not longer": 2,  # shorter, and equally long
    }
    assert counts.rejected == {
        "invalid JSON": 1,  # a line of the old set
        "missing field 'response'": 1,  # a row of the old set
        "first exchange is not human, gpt": 1,
        "missing field 'conversations'": 1,  # conversations null
    }


def test_dpo_airoboros_32_option_reads_that_dataset(tmp_path):
    folder = tmp_path / "jondurbin" / "airoboros-3.2"
    folder.mkdir(parents=True)
    rows = json.loads((SAMPLES / "unalignment/spicy-3.1/conversations-no-mathjson.json").read_text())
    (folder / "airoboros-3.2.jsonl").write_text("".join(json.dumps(r) + "\n" for r in rows[:2]))
    shutil.copytree(SAMPLES / "jondurbin/airoboros-gpt4-m2.0", tmp_path / "jondurbin/airoboros-gpt4-m2.0")
    records, _ = load_sample(AiroborosRewrites, {"version": "3.2"}, data_root=tmp_path)
    assert [r["prompt"] for r in records] == [
        "Write a poem about the sea.",
        "Pretend you are a pirate captain greeting a new sailor.",
    ]


def test_dpo_airoboros_missing_old_set_names_it(tmp_path):
    shutil.copytree(SAMPLES / "unalignment/spicy-3.1", tmp_path / "unalignment/spicy-3.1")
    with pytest.raises(DatasetUnavailable, match="jondurbin/airoboros-gpt4-m2.0"):
        load_sample(AiroborosRewrites, data_root=tmp_path)


def test_dpo_airoboros_reference_requires_a_system_prompt():
    """The reference paired a row only when its second turn was the human instruction, i.e.
    after a system prompt (issue 28, row 6): ``require_system = true``."""
    records, counts = load_sample(AiroborosRewrites, {"require_system": True})
    assert [r["prompt"] for r in records] == ["Write a poem about the sea.", "Introduce yourself, knight."]
    assert all(r["system"] for r in records)
    assert counts.filtered["no system prompt"] == 1  # the roleplay row without one
