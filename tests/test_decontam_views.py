"""Views, the cascade and code matching on real benchmark items (../shared/data/benchmarks),
with rephrases built by the development set's own rules (benchmarks/decontamination_devset.py).

The index holds every view of a few hundred real items (the ones the cases copy, and others
around them as distractors), so a test encodes a few hundred texts, not the whole benchmarks.
"""

from __future__ import annotations

import json
import math
import sys
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "benchmarks"))
import decontamination_devset as devset  # noqa: E402
from decontamination_texts import benchmark_items  # noqa: E402

from bagel_core.builtin.decontaminate.code import CodeDecontaminator  # noqa: E402
from bagel_core.builtin.decontaminate.code_match import normalised_tokens, program_shingles  # noqa: E402
from bagel_core.builtin.decontaminate.ngram import NgramDecontaminator  # noqa: E402
from bagel_core.builtin.decontaminate.query_text import query_views, windows  # noqa: E402
from bagel_core.components import Query  # noqa: E402


@pytest.fixture(scope="module")
def cases() -> list[devset.Case]:
    return devset.build(0, per_group=30, clean=300, code_negatives=300, light_per_benchmark=4)


def _index_for(cases) -> list:
    """Every view of the items the cases copy, and of every 40th other item."""
    wanted = {(c.benchmark, c.item) for c in cases}
    return [
        b
        for name, texts in benchmark_items().items()
        for k, b in enumerate(texts)
        if (name, b.item) in wanted or k % 40 == 0
    ]


@pytest.fixture(scope="module")
def index(cases) -> list:
    return _index_for(cases)


@pytest.fixture(scope="module")
def embedding(index, static_model, tmp_path_factory):
    from bagel_core.builtin.decontaminate.embedding import EmbeddingDecontaminator

    cache = tmp_path_factory.mktemp("embedding-cache")

    def make(views=index, **options):
        d = EmbeddingDecontaminator(
            EmbeddingDecontaminator.Options(static_model=static_model, **options), cache_dir=cache
        )
        d.index(views)
        return d

    return make


def _of(cases, group, split=None):
    return [c for c in cases if c.group == group and (split is None or c.split == split)]


def test_decontam_views_query_views_name_turns_answers_and_windows():
    passage = " ".join(f"word{i}" for i in range(150))
    q = Query("q", "s", passage + "\nWhich of these came first?\nA. one\nB. two", ("x",), ("The answer is A.",))
    q = Query("q", "s", q.text, (q.text, "And the second turn?"), ("The answer is A.",))
    views = query_views(q, "all", answers=True, with_windows=True)
    names = [v.name for v in views]
    assert names[0] == "turn1" and "turn2" in names and names[-1] == "answer1"
    assert any(n.startswith("turn1#w") for n in names)
    # The last lines (question and choices) are one window of their own.
    assert "Which of these came first?\nA. one\nB. two" in windows(q.text)
    assert [v.name for v in query_views(q, "first", answers=False, with_windows=False)] == ["turn1"]


def test_decontam_views_benchmark_sets_declare_views():
    items = benchmark_items()
    mmlu_views = {b.view for b in items["mmlu"]}
    assert {"question", "question+choices", "passage", "final question+choices"} <= mmlu_views
    assert {(b.view, b.role) for b in items["humaneval"]} == {
        ("prompt", "prompt"),
        ("docstring", "prompt"),
        ("solution", "code"),
    }
    assert {(b.view, b.role) for b in items["gsm8k"]} == {("question", "prompt"), ("solution", "answer")}


def test_decontam_views_rephrase_caught_clean_not(cases, embedding, index):
    d = embedding()
    rephrased = _of(cases, "gsm8k rephrased")[:8] + _of(cases, "mmlu rephrased + choices")[:8]
    # Clean: no 13-gram of any benchmark (MMLU's auxiliary-train questions hold copies of
    # ARC-Challenge test questions, which are contamination, not clean text).
    ngram = NgramDecontaminator()
    ngram.index(index)
    candidates = _of(cases, "clean text")[:45]
    copies = {m.id for m in ngram.search([c.query for c in candidates])}
    clean = [c for c in candidates if c.query.id not in copies][:40]
    found = {m.id: m for m in d.search([c.query for c in rephrased + clean])}
    caught = [c for c in rephrased if c.query.id in found]
    assert len(caught) >= 14, [c.query.text for c in rephrased if c.query.id not in found]
    for c in caught:
        m = found[c.query.id]
        assert m.views and "<-turn1" in m.views
    assert not [c.query.text for c in clean if c.query.id in found]


def test_decontam_views_passage_item_caught_by_its_question(cases, embedding):
    d = embedding()
    case = _of(cases, "mmlu passage-based")[0]
    view = next(b for b in benchmark_items()["mmlu"] if b.item == case.item and b.view == "final question+choices")
    # The passage replaced by a one-line summary: only the question and its choices remain,
    # the choices re-lettered as "A)".
    final, *choices = view.text.split("\n")
    relettered = "\n".join(c.replace(". ", ") ", 1) for c in choices)
    text = f"Consider a historical document from this period.\n{final}\n{relettered}"
    [match] = d.search([Query("p", "s", text, (text,))])
    assert (match.benchmark, match.benchmark_item) == ("mmlu", case.item)
    assert "final question+choices" in match.views or "question" in match.views.split("<-")[0]


def test_decontam_views_long_turn_is_compared_through_its_windows(cases, embedding, index):
    d = embedding()
    question = next(b for b in index if b.benchmark == "gsm8k" and b.view == "question")
    ratio = d.options.prefilter_length_ratio
    # A real question after an unrelated preamble (Spider questions, real and clean) that makes
    # the turn long enough for windows and for the rule, and no longer.
    turn = question.text
    for c in _of(cases, "clean text"):
        if len(turn.split()) > max(64, ratio * len(question.text.split())):
            break
        turn = f"{c.query.text}\n{turn}"
    query = Query("long", "s", turn, (turn,))
    words = len(turn.split())

    def whole_turn_vs_short_view(pairs):
        return [
            p
            for p in pairs
            if p.view.name == "turn1"
            and ratio * len(d._benchmarks[p.benchmark].text.split()) < words
            and len(d._benchmarks[p.benchmark].text.split()) <= 64
        ]

    # Without the rule the whole turn is paired with short benchmark views (the question's own
    # among them); with it, only its windows are.
    ungated = d.scored_pairs([query], length_ratio=math.inf)
    assert any(d._benchmarks[p.benchmark].item == question.item for p in whole_turn_vs_short_view(ungated))
    assert whole_turn_vs_short_view(d.scored_pairs([query])) == []
    [match] = d.search([query])
    assert (match.benchmark, match.benchmark_item) == ("gsm8k", question.item) and "<-turn1#w" in match.views


# Over 20 s (59 CPU seconds, was 83): the full model's transformer pass over 1106 benchmark views.
def test_decontam_views_cascade_keeps_every_match_of_the_full_model(cases, embedding):
    sample = [c for c in cases if c.split == "dev"][::3]
    # The full model embeds every view of the index with the transformer (most of this test's
    # cost): the index here holds the items the sample copies, not those of the other cases,
    # and every 40th other item as everywhere (1106 views, 53k words, instead of 1674, 98k).
    views = _index_for(sample)
    full = embedding(views, prefilter="none")
    cascade = embedding(views)
    full_ids = {m.id for m in full.search([c.query for c in sample])}
    cascade_ids = {m.id for m in cascade.search([c.query for c in sample])}
    assert full_ids and full_ids <= cascade_ids


def test_decontam_views_renamed_python_solution_caught(cases, index):
    code = CodeDecontaminator()
    code.index(index)
    rewritten = _of(cases, "humaneval rewritten") + _of(cases, "humaneval code only")
    found = {m.id: m for m in code.search([c.query for c in rewritten])}
    # Structure alone is not enough (it flagged near-neighbour CodeAlpaca programs): a rewrite
    # matches with evidence of the task, here mostly the same function once normalised
    # (docs/decontamination.md: 100% of these rule-built rewrites on both halves).
    assert len(found) >= 0.9 * len(rewritten)
    m = next(iter(found.values()))
    assert m.views.startswith("solution<-") and m.benchmark == "humaneval"
    neighbours = _of(cases, "near-neighbour code")
    assert len({m.id for m in code.search([c.query for c in neighbours])}) <= 0.05 * len(neighbours)


def test_decontam_views_code_normalisation_ignores_names_comments_layout():
    a = 'def f(xs, t):\n    """Doc."""\n    for i in range(len(xs)):  # loop\n        if xs[i] > t:\n            return True\n    return False\n'
    b = "def g(values, limit):\n    for k in range(len(values)):\n        if limit < values[k]: return True\n    return False"
    assert normalised_tokens(a) == normalised_tokens(b)
    assert program_shingles(a) != program_shingles("def g(v):\n    return sorted(v)[::-1]\n")
    assert normalised_tokens("this is not python (") == []


def test_decontam_views_ngram_checks_answers_and_names_views(cases, index):
    d = NgramDecontaminator()
    d.index(index)
    case = _of(cases, "gsm8k solution in answer")[0]
    solution = next(b.text for b in index if b.benchmark == "gsm8k" and b.item == case.item and b.view == "solution")
    q = Query("a", "s", "Solve it.", ("Solve it.",), (solution,))
    [m] = d.search([q])
    assert m.views == "solution<-answer1"
    prompts_only = NgramDecontaminator(NgramDecontaminator.Options(answers=False))
    prompts_only.index(index)
    assert list(prompts_only.search([q])) == []


def test_decontam_views_handwritten_paraphrases_caught_and_no_gate_loses_one(static_model, tmp_path):
    """Free paraphrases written by hand (benchmarks/data/handwritten_paraphrases.json: 10 GSM8K,
    14 MMLU with and without reformatted choices, 6 TruthfulQA; reworded, restructured, not by
    the dev set's rules), against every view of their items and of every 40th other item: the
    default set catches at least 28 of 30, and the cascade's gates lose none of the pairs the
    transformer scores above the view's threshold without them."""
    from bagel_core.builtin.decontaminate.embedding import EmbeddingDecontaminator

    rows = json.loads(
        (Path(__file__).resolve().parents[1] / "benchmarks" / "data" / "handwritten_paraphrases.json").read_text()
    )
    wanted = {(r["benchmark"], r["item"]) for r in rows}
    index = [
        b
        for name, texts in benchmark_items().items()
        for k, b in enumerate(texts)
        if (name, b.item) in wanted or k % 40 == 0
    ]
    d = EmbeddingDecontaminator(EmbeddingDecontaminator.Options(static_model=static_model), cache_dir=tmp_path)
    d.index(index)
    ngram = NgramDecontaminator()
    ngram.index(index)
    queries = [Query(f"p{i}", "s", r["text"], (r["text"],)) for i, r in enumerate(rows)]
    caught = {m.id for m in d.search(queries)} | {m.id for m in ngram.search(queries)}
    assert len(caught) >= 28, [r["text"] for i, r in enumerate(rows) if f"p{i}" not in caught]

    def true_pairs(pairs):
        return {
            (p.query, p.benchmark)
            for p in pairs
            if p.score >= d._thresholds[p.benchmark]
            and (d._benchmarks[p.benchmark].benchmark, d._benchmarks[p.benchmark].item)
            == (rows[p.query]["benchmark"], rows[p.query]["item"])
        }

    ungated = true_pairs(d.scored_pairs(queries, floor=0.3, overlap=0.0, length_ratio=math.inf))
    assert len({q for q, _ in ungated}) >= 27 and ungated <= true_pairs(d.scored_pairs(queries))


def test_decontam_views_hnsw_graph_is_kept_in_the_cache(index, static_model, tmp_path, monkeypatch):
    """The static pass's HNSW graph is built once per cache dir (the worker processes of a run
    and later runs read it) and searches the same as the graph just built."""
    from bagel_core.builtin.decontaminate import embedding as module

    monkeypatch.setattr(module, "HNSW_FROM", 100)
    options = module.EmbeddingDecontaminator.Options(static_model=static_model)
    first = module.EmbeddingDecontaminator(options, cache_dir=tmp_path)
    first.index(index)
    built = {p.name: p.stat().st_mtime_ns for p in (tmp_path / "hnsw").iterdir()}
    assert built and all(name.endswith(".faiss") for name in built)
    second = module.EmbeddingDecontaminator(options, cache_dir=tmp_path)
    second.index(index)
    assert {p.name: p.stat().st_mtime_ns for p in (tmp_path / "hnsw").iterdir()} == built  # read, not rebuilt
    queries = [Query(f"q{i}", "s", b.text, (b.text,)) for i, b in enumerate(index[::50])]
    for role, (members, graph_index) in first._indexes.items():
        vectors = first.static_encoder().encode([q.text for q in queries]) - first._center
        assert graph_index.ntotal == second._indexes[role][1].ntotal == len(members)
        a = graph_index.search(vectors.astype("float32"), 8)
        b = second._indexes[role][1].search(vectors.astype("float32"), 8)
        assert (a[1] == b[1]).all()
