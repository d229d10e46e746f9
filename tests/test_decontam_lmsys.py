"""Decontamination against the LMSYS llm-decontaminator release (../shared/data/decontam):
GPT-4 rephrases of real test items and CodeAlpaca programs retrieved as HumanEval's nearest
neighbours; the split by benchmark item, the code decontaminator's precision on those
neighbours, and the views that free rephrases need."""

from __future__ import annotations

import hashlib
import sys
from collections import defaultdict
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "benchmarks"))
import decontamination_lmsys as lmsys  # noqa: E402
from decontamination_texts import benchmark_items  # noqa: E402

from bagel_core.builtin.decontaminate.code import CodeDecontaminator  # noqa: E402
from bagel_core.builtin.decontaminate.code_match import function_docstrings, task_evidence  # noqa: E402
from bagel_core.builtin.decontaminate.query_text import query_views  # noqa: E402
from bagel_core.components import BenchmarkText, Query  # noqa: E402

needs_release = pytest.mark.skipif(
    not lmsys.available(), reason=f"{lmsys.DECONTAM} (the LMSYS release in ../shared) is absent"
)


@pytest.fixture(scope="module")
def cases():
    return lmsys.build()


@needs_release
def test_decontam_lmsys_split_by_benchmark_item(cases):
    groups = {c.group for c in cases}
    assert set(lmsys.POSITIVE_GROUPS + lmsys.NEGATIVE_GROUPS) == groups
    by_item = defaultdict(set)
    for c in cases:
        by_item[c.item or c.query.id].add(c.split)
        if c.benchmark:
            digest = hashlib.sha1(f"{c.benchmark}/{c.item}".encode()).digest()
            assert c.split == ("dev" if digest[0] % 2 == 0 else "held-out")
    # Question-only and with-choices rephrases of one item, both HumanEval forms: one half.
    assert all(len(s) == 1 for s in by_item.values())
    for group in groups:
        splits = [c.split for c in cases if c.group == group]
        assert splits.count("dev") and splits.count("held-out"), group
    assert len([c for c in cases if c.group == "gsm8k"]) == 1315  # 1,319 lines, 4 empty


@needs_release
def test_decontam_lmsys_code_needs_evidence_of_the_same_task(cases):
    """CodeAlpaca programs the paper's judge found not to be rephrases: the code decontaminator
    flags at most 5% of the held-out half (30.4% of both halves matched before the evidence
    rule); it still finds rewritten HumanEval programs that keep the task's signature or
    constants."""
    code = CodeDecontaminator()
    code.index([b for texts in benchmark_items().values() for b in texts])
    negatives = [c.query for c in cases if c.group == "codealpaca non-rephrase" and c.split == "held-out"]
    assert len(list(code.search(negatives))) <= 0.05 * len(negatives)
    positives = [c for c in cases if c.group == "humaneval whole program" and c.split == "held-out"]
    found = {m.id: m.benchmark_item for m in code.search([c.query for c in positives])}
    assert len(found) >= 0.3 * len(positives)
    # Mostly as their own item (HumanEval has near-twin tasks: a match may name the twin).
    assert sum(found[c.query.id] == c.item for c in positives if c.query.id in found) >= 0.9 * len(found)


def test_decontam_lmsys_code_evidence_rule():
    bench = (
        'def shout(words: list[str]) -> str:\n    """Join with dashes.\n    >>> shout(["a", "b"])\n    \'A-B\'\n    """\n'
        '    out = []\n    for w in words:\n        out.append(w.upper())\n    return "-".join(out)\n'
    )
    signatures, literals = task_evidence(bench)
    assert signatures == {(1, ("list[str]",), "str")} and {"'-'", "'A-B'", "'a'"} <= literals
    same_shape = "def f(xs):\n    res = []\n    for x in xs:\n        res.append(x.upper())\n    return '-'.join(res)\n"
    other_task = "def f(xs):\n    res = []\n    for x in xs:\n        res.append(x.upper())\n    return '+'.join(res)\n"
    index = [BenchmarkText("humaneval", "1", bench, "solution", "code")]
    code = CodeDecontaminator(
        CodeDecontaminator.Options(min_containment=0.3, min_containment_alone=1.01, min_shingles=1)
    )
    code.index(index)
    hits = {
        m.id
        for m in code.search(
            [Query("same", "s", same_shape, (same_shape,)), Query("other", "s", other_task, (other_task,))]
        )
    }
    assert hits == {"same"}  # the same structure, but only one shares the task's constant
    alone = CodeDecontaminator(
        CodeDecontaminator.Options(min_containment=0.3, min_containment_alone=0.3, min_shingles=1)
    )
    alone.index(index)
    assert len(list(alone.search([Query("other", "s", other_task, (other_task,))]))) == 1


def test_decontam_lmsys_same_function_is_evidence():
    """A program that is the benchmark's function once renamed, its docstring and annotations
    dropped and operands reordered (no signature, no distinctive constant left) is the same
    task; a near neighbour with one more loop is not, though its shingles are nearly all there."""
    bench = (
        'def pairs_sum_to_zero(l: list):\n    """True if two distinct elements sum to zero.\n    >>> pairs_sum_to_zero([1])\n'
        '    False\n    """\n    for i, l1 in enumerate(l):\n        for j in range(i + 1, len(l)):\n'
        "            if l1 + l[j] == 0:\n                return True\n    return False\n"
    )
    rewrite = (
        "def check(arr):\n    for a, x in enumerate(arr):\n        for b in range(1 + a, len(arr)):\n"
        "            if 0 == arr[b] + x:\n                found = True\n                return found\n    return False\n"
    )
    triples = (
        "def check(arr):\n    for a, x in enumerate(arr):\n        for b in range(a + 1, len(arr)):\n"
        "            for c in range(b + 1, len(arr)):\n                if x + arr[b] + arr[c] == 0:\n"
        "                    return True\n    return False\n"
    )
    assert task_evidence(rewrite) == (frozenset(), frozenset())
    index = [BenchmarkText("humaneval", "43", bench, "solution", "code")]
    queries = [Query("rewrite", "s", rewrite, (rewrite,)), Query("triples", "s", triples, (triples,))]
    code = CodeDecontaminator(
        CodeDecontaminator.Options(min_containment=0.3, min_containment_alone=1.01, min_shingles=1)
    )
    code.index(index)
    assert {m.id for m in code.search(queries)} == {"rewrite"}
    off = CodeDecontaminator(
        CodeDecontaminator.Options(
            min_containment=0.3, min_containment_alone=1.01, min_shingles=1, min_same_function=1.01
        )
    )
    off.index(index)
    assert not list(off.search(queries))


def test_decontam_lmsys_docstring_views():
    program = (
        "from typing import List\n\ndef near(xs: List[float], limit: float) -> bool:\n"
        '    """ Tell whether two numbers of the list are closer than the limit.\n    >>> near([1.0, 2.0], 0.5)\n    False\n    """\n'
    )
    assert function_docstrings(program) == ["Tell whether two numbers of the list are closer than the limit."]
    q = Query("q", "s", program, (program,), (f"```python\n{program}    return False\n```",))
    views = {v.name: v for v in query_views(q, "all", answers=True, with_windows=True, docstrings=True)}
    assert views["turn1#doc1"].text == views["answer1#doc1"].text == function_docstrings(program)[0]
    assert views["answer1#doc1"].role == "prompt"  # compared with the benchmarks' task statements
    assert "turn1#doc1" not in {v.name for v in query_views(q, "all", answers=True, with_windows=True)}


@needs_release
def test_decontam_lmsys_passage_items_have_their_final_question_alone():
    views = {(b.item, b.view): b.text for b in benchmark_items()["mmlu"]}
    final = views[("high_school_us_history/0", "final question")]
    assert final == "By what means did the United States take possession of the Oregon Territory?"
    assert views[("high_school_us_history/0", "final question+choices")].startswith(final + "\nA. ")


def test_decontam_lmsys_card_says_what_decontaminated_means():
    from bagel_core.card import decontamination_meaning

    default = decontamination_meaning(["ngram", "embedding", "code"])
    assert all(f"`{n}`" in default for n in ("ngram", "embedding", "code"))
    assert "held-out" in default and "clean text" in default and "%" in default
    other = decontamination_meaning(["ngram", "my-plugin"])
    assert "`my-plugin` (a plugin's)" in other and "default set" in other and "held-out" not in other


def test_decontam_lmsys_docstring_prose_has_its_own_thresholds():
    from bagel_core.builtin.decontaminate.embedding import TUNED_THRESHOLDS, EmbeddingDecontaminator

    d = EmbeddingDecontaminator(EmbeddingDecontaminator.Options(thresholds={"mmlu/question<-doc": 0.9}))
    doc = BenchmarkText("humaneval", "1", "Return the sum.", "docstring")
    assert d.threshold_of(doc) == TUNED_THRESHOLDS["humaneval/docstring"]
    assert d.threshold_of(doc, doc=True) == TUNED_THRESHOLDS["humaneval/docstring<-doc"]
    question = BenchmarkText("mmlu", "a/1", "What is it?", "question")
    assert d.threshold_of(question, doc=True) == 0.9 and d.threshold_of(question) == TUNED_THRESHOLDS["mmlu/question"]
    gsm = BenchmarkText("gsm8k", "1", "How many?", "question")
    assert d.threshold_of(gsm, doc=True) == d.threshold_of(gsm)  # no <-doc entry: the view's own


@needs_release
def test_decontam_lmsys_rescue_gate_finds_free_paraphrases_the_static_gate_drops(cases, static_model, tmp_path):
    """A free rephrase of a short question keeps its rare words but moves its static vector
    under ``prefilter_threshold``: the rescue gate (static >= ``prefilter_rescue``, word
    overlap >= ``prefilter_rescue_overlap``) hands such pairs to the transformer too."""
    from bagel_core.builtin.decontaminate.embedding import EmbeddingDecontaminator

    index = [b for b in benchmark_items()["mmlu"] if b.item.startswith("sociology/")]
    queries = [c.query for c in cases if c.group == "mmlu sociology question only" and c.split == "dev"]
    d = EmbeddingDecontaminator(EmbeddingDecontaminator.Options(static_model=static_model), cache_dir=tmp_path)
    d.index(index)
    o = d.options
    off = {(p.query, p.benchmark) for p in d.scored_pairs(queries, rescue=(1.0, 1.01))}
    on = d.scored_pairs(queries)
    rescued = [p for p in on if (p.query, p.benchmark) not in off]
    assert off <= {(p.query, p.benchmark) for p in on}
    assert rescued and all(
        o.prefilter_rescue <= p.prefilter < o.prefilter_threshold and p.overlap >= o.prefilter_rescue_overlap
        for p in rescued
    )
    # Some of them are the rephrase and its own item, above the view's threshold: caught now.
    item_of = {c.query.id: c.item for c in cases}
    own = [p for p in rescued if d._benchmarks[p.benchmark].item == item_of[queries[p.query].id]]
    assert any(p.score >= d._threshold(p) for p in own)
