"""The HumanEval substring filter shared by apps, python_alpaca and rosetta_code."""

import gzip
import json

from sources_testkit import REAL_HUMANEVAL, real_humaneval

from bagel_core.testing import load_context
from bagel_sources_builtin import SAMPLES
from bagel_sources_builtin.humaneval_filter import HumanEvalFilter


def test_both_directions_exact_and_case_sensitive():
    f = HumanEvalFilter(["    return a + b\n"])
    assert f.matches("def add(a, b):\n    return a + b\n")  # solution inside the response
    assert f.matches("return a")  # response inside the solution
    assert f.matches("")  # empty: a substring of everything
    assert not f.matches("def add(a, b):\n    RETURN A + B\n")
    assert not f.matches("def add(a, b):\n    return a+b\n")


def test_reads_the_shipped_sample():
    ctx = load_context("apps", data_root=SAMPLES, sample=True, seed=0)
    f = HumanEvalFilter.load(ctx)
    assert f.solutions[0] == "    return sum(n * n for n in numbers)\n"
    assert len(f.solutions) == 3


def test_reads_the_real_test_set_from_a_data_root(tmp_path):
    ctx = load_context("apps", data_root=real_humaneval(tmp_path), hub=False, seed=0)
    f = HumanEvalFilter.load(ctx)
    assert len(f.solutions) == 164
    with gzip.open(REAL_HUMANEVAL, "rt", encoding="utf-8") as lines:
        first = json.loads(next(lines))
    assert f.matches(first["prompt"] + first["canonical_solution"])
