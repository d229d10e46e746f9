"""bluemoon: raw JSON array, instruction ids, opening gpt message folded into the system prompt."""

import json

import pytest
from sources_testkit import load, turns

from bagel_core import MalformedFile, uid
from bagel_sources_builtin.bluemoon import Bluemoon

FILE = "Squish42/bluemoon-fandom-1-1-rp-cleaned/data/pruned/bluemoon.train.json"


def test_sample_conversations_and_counts():
    records, counts = load(Bluemoon)
    assert len(records) == 2
    lighthouse, tavern = records
    assert len(lighthouse["conversations"]) == 4
    assert lighthouse["id"] == uid(
        "The rain had not stopped for three days when Mara reached the lighthouse.\n"
        '"You knew I was coming," she said, shaking water from her coat.'
    )
    assert turns(tavern) == [
        ("system", "First message: The tavern was loud tonight, and the bard had already broken two strings."),
        ("human", "Kael slid onto the stool beside him and ordered two ales."),
        ("gpt", 'The bard eyed the second mug warily. "Is that a bribe or an apology?"'),
    ]
    # Two human turns in a row, a null reply, conversations as a string, no conversations.
    assert counts.rejected == {
        "bad role order": 1,
        "missing field": 1,
        "wrong type": 1,
        "missing field 'conversations'": 1,
    }


def test_a_broken_array_is_a_malformed_file_and_json_lines_are_rows(tmp_path):
    path = tmp_path / FILE
    path.parent.mkdir(parents=True)
    path.write_text('[{"conversations": []}, {"conv')
    with pytest.raises(MalformedFile, match="present but malformed: not a valid JSON array"):
        load(Bluemoon, tmp_path)
    path.write_text(json.dumps({"id": 1}) + "\n")  # one JSON line: a row without conversations
    records, counts = load(Bluemoon, tmp_path)
    assert records == [] and counts.rejected == {"missing field 'conversations'": 1}
