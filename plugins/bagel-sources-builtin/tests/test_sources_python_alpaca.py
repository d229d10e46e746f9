"""python_alpaca: input appended to the instruction, refusal and HumanEval filters."""

from sources_testkit import load, turns

from bagel_core import uid
from bagel_sources_builtin.python_alpaca import PythonAlpaca


def test_sample_conversion_and_filters():
    records, counts = load(PythonAlpaca)
    items = {r["conversations"][0]["value"]: r for r in records}
    sort = "Sort the following list of words alphabetically.\n\n['pear', 'apple', 'fig']"
    assert turns(items[sort]) == [("human", sort), ("gpt", "words = ['pear', 'apple', 'fig']\nprint(sorted(words))")]
    assert items[sort]["id"] == uid(sort)
    # A blank input adds nothing.
    assert "Explain what a Python generator is, with an example." in items
    assert len(records) == 3
    # "As an AI language model" (capitalised) is a refusal; sum_of_squares is a HumanEval solution.
    assert counts.filtered == {"refusal": 1, "humaneval overlap": 1}
    assert counts.rejected == {"missing field 'output'": 1}


def test_head_refusal_patterns_option():
    records, counts = load(PythonAlpaca, refusal_patterns="head")
    assert counts.filtered["refusal"] == 1


def test_reads_the_one_upstream_file(tmp_path):
    """The data is one oddly named JSON file, 188k-Vezora-PyCode-Alpaca.json; nothing else in
    the repository is read (issue 28)."""
    import shutil

    from bagel_sources_builtin import SAMPLES

    root = tmp_path / "root"
    shutil.copytree(SAMPLES / "Vezora", root / "Vezora")
    shutil.copytree(SAMPLES / "openai", root / "openai")
    folder = root / "Vezora" / "Tested-22k-Python-Alpaca"
    assert [p.name for p in folder.iterdir()] == ["188k-Vezora-PyCode-Alpaca.json"]
    (folder / "extra.jsonl").write_text('{"instruction": "x", "input": "", "output": "y"}\n')
    records, _ = load(PythonAlpaca, root)
    assert len(records) == len(load(PythonAlpaca)[0])
