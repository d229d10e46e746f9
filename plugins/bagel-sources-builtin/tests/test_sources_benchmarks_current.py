"""Today's benchmark sets (group ``current``): the exact texts indexed, read from the real test
sets in ../shared/data/benchmarks written into the Hub layout each set reads (several shared
copies are the GitHub releases' layout: ``benchmarks/current_benchmarks.py`` converts them).
GPQA's text is never compared in a way that could print it: only counts, ids and views."""

import shutil
import sys
from pathlib import Path

import pytest

from bagel_core import DatasetUnavailable
from bagel_core.testing import load_context, select_names
from bagel_sources_builtin.benchmarks import CURRENT, LEGACY, BigBenchHard, Gpqa, IfEval, Math, Math500, Mbpp, MmluPro

sys.path.insert(0, str(Path(__file__).resolve().parents[3] / "benchmarks"))
import current_benchmarks  # noqa: E402


@pytest.fixture(scope="module")
def root(tmp_path_factory):
    folder = current_benchmarks.write_upstream(tmp_path_factory.mktemp("current"))
    yield folder
    shutil.rmtree(folder / "Idavidrein")  # GPQA in plain text only while the tests run


def index(cls, root, hub=True, options=None):
    ctx = load_context(cls, data_root=root, hub=hub)
    return list((cls(options) if options else cls()).texts(ctx)), ctx.counts


def by_item(texts):
    out = {}
    for t in texts:
        out.setdefault(t.item, {})[t.view] = t
    return out


def test_mbpp_indexes_the_500_test_tasks_with_tests_and_the_program_as_an_option(root):
    texts, counts = index(Mbpp, root)
    items = by_item(texts)
    assert sorted(map(int, items)) == list(range(11, 511)) and not counts.rejected
    assert {view for views in items.values() for view in views} == {"prompt", "prompt+tests"}
    items = by_item(index(Mbpp, root, options=Mbpp.Options(code=True))[0])
    first = items["11"]
    assert (
        first["prompt"].text
        == "Write a python function to remove first and last occurrence of a given character from the string."
    )
    assert first["prompt+tests"].text.startswith(first["prompt"].text + '\nassert remove_Occ("hello","l") == "heo"')
    assert (
        first["solution"].role == "code"
        and first["solution"].text.startswith("def remove_Occ(s,ch): ")
        and "\r" not in first["solution"].text
    )


def test_bbh_indexes_every_input_of_its_27_tasks(root):
    texts, _ = index(BigBenchHard, root)
    assert len(texts) == 6511 and {t.view for t in texts} == {"question"}
    assert len({t.item.split("/")[0] for t in texts}) == 27
    assert by_item(texts)["boolean_expressions/0"]["question"].text == "not ( True ) and ( True ) is"


def test_ifeval_indexes_each_prompt_by_key(root):
    texts, _ = index(IfEval, root)
    assert len(texts) == 541 and by_item(texts)["1000"]["prompt"].text.startswith(
        'Write a 300+ word summary of the wikipedia page "https://en.wikipedia.org/wiki/Raymond_III,_Count_of_Tripoli".'
    )


def test_math_indexes_the_5000_problems_and_solutions(root):
    texts, _ = index(Math, root)
    items = by_item(texts)
    assert len(items) == 5000 and sum(i.startswith("algebra/") for i in items) == 1187
    # MATH/test/algebra/1.json, the first algebra file.
    assert (
        items["algebra/0"]["problem"].text
        == "How many vertical asymptotes does the graph of $y=\\frac{2}{x^2+x-6}$ have?"
    )
    assert items["algebra/0"]["solution"].role == "answer" and items["algebra/0"]["solution"].text.endswith(
        "$\\boxed{2}$ vertical asymptotes."
    )


def test_math_500_indexes_by_math_file_id(root):
    texts, _ = index(Math500, root)
    items = by_item(texts)
    assert len(items) == 500 and items["test/precalculus/807.json"]["problem"].text.startswith(
        "Convert the point $(0,3)$ in rectangular coordinates"
    )


def test_mmlu_pro_indexes_question_and_its_ten_choices(root):
    texts, _ = index(MmluPro, root)
    items = by_item(texts)
    assert len(items) == 12032
    assert items["70"]["question+choices"].text.endswith("\nI. Unsafe practices, Distress, Fear, Serious")
    assert sum("passage" in views for views in items.values()) > 0


def test_gpqa_indexes_each_record_twice_and_is_redacted(root):
    texts, counts = index(Gpqa, root)
    items = by_item(texts)
    assert len(items) == 198 and not counts.rejected
    assert all(
        item.startswith("rec") and set(views) == {"question", "question+choices"} for item, views in items.items()
    )
    assert Gpqa.redact_text and not any(cls.redact_text for cls in CURRENT if cls is not Gpqa)


def test_gpqa_missing_says_it_is_gated_and_how_to_provide_it(tmp_path):
    with pytest.raises(
        DatasetUnavailable,
        match=r"'Idavidrein/gpqa' is not available \(no local copy; GPQA is gated: accept its terms at https://huggingface.co/datasets/Idavidrein/gpqa and log in \(`huggingface-cli login`\)\).*--data-root",
    ):
        index(Gpqa, tmp_path, hub=False)


def test_gpqa_sample_is_synthetic():
    texts, _ = index(Gpqa, Gpqa.sample_root, hub=False)
    assert {t.item for t in texts} == {"synthetic01", "synthetic02"}
    assert all(t.text.startswith("SYNTHETIC SAMPLE, NOT A GPQA ITEM.") for t in texts)


def test_benchmarks_select_groups():
    assert select_names("benchmark", "legacy") == sorted(cls.name for cls in LEGACY)
    assert select_names("benchmark", "current") == sorted(cls.name for cls in CURRENT)
    assert select_names("benchmark", "current,mmlu,gpqa") == [*sorted(cls.name for cls in CURRENT), "mmlu"]
    assert select_names("benchmark", "all") == sorted(cls.name for cls in LEGACY + CURRENT)
    with pytest.raises(Exception, match=r"unknown benchmark 'modern'.*current \(group\), legacy \(group\)"):
        select_names("benchmark", "modern")
