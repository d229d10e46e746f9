"""emobank: train rows of the EmoBank CSV -> message with a VAD prompt, JSON scores as strings."""

import shutil

from sources_testkit import REAL, load, turns

from bagel_core import uid
from bagel_sources_builtin.emobank import PROMPT, EmoBank


def test_exact_conversation_with_stray_quote_removed():
    records, _ = load(EmoBank)
    instruction = (
        "Please assign a Valence-Arousal-Dominance (VAD) score in JSON format to the following message:\n"
        "Remember what she said in my last letter?"
    )
    assert turns(records[0]) == [("human", instruction), ("gpt", '{\n  "V": "3.0",\n  "A": "3.0",\n  "D": "3.2"\n}')]
    assert records[0]["id"] == uid(instruction)  # not the row id
    # surrounding whitespace and every trailing quote go
    assert records[3]["conversations"][0]["value"] == f"{PROMPT}\nIt worked wonders for me and my family!"


def test_only_train_rows_and_malformed_rows():
    records, counts = load(EmoBank)
    assert len(records) == 6
    assert counts.filtered == {"split test": 1, "split dev": 1}
    # V "n/a"; a text that is only a quote; a short row without A, D, text
    assert counts.rejected == {"bad value": 2, "missing field 'A'": 1}


def test_real_corpus(tmp_path):
    folder = tmp_path / "JULIELab" / "EmoBank" / "corpus"
    folder.mkdir(parents=True)
    shutil.copy(REAL / "emobank" / "emobank.csv", folder / "emobank.csv")
    records, counts = load(EmoBank, root=tmp_path)
    assert counts.filtered == {"split test": 1000, "split dev": 1000}
    # one train row's text is a lone quote: empty once cleaned
    assert counts.rejected == {"bad value": 1}
    assert len(records) == 8062 - 1
    assert turns(records[1]) == [
        ("human", f"{PROMPT}\n.."),
        ("gpt", '{\n  "V": "3.0",\n  "A": "3.0",\n  "D": "3.0"\n}'),
    ]
