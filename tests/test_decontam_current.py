"""Decontamination against today's benchmark sets (group ``current``) on their real test items
(../shared/data/benchmarks, written into the Hub layout their sets read), and GPQA's text kept
out of every output.

The index holds every view of the items the cases copy and of every 40th other item (as
distractors), so a test encodes a few hundred texts, not the whole benchmarks. GPQA's rows are
never printed: assertions about them report positions and file names only.
"""

from __future__ import annotations

import json
import re
import shutil
import sys
from pathlib import Path

import pyarrow.parquet as pq
import pytest

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "benchmarks"))
import current_benchmarks  # noqa: E402
from decontamination_devset import _rng, edit_words, paraphrase  # noqa: E402
from decontamination_texts import benchmark_items, clean_texts  # noqa: E402

from bagel_core.builtin.decontaminate.code import CodeDecontaminator  # noqa: E402
from bagel_core.builtin.decontaminate.ngram import NgramDecontaminator  # noqa: E402
from bagel_core.components import Match, Query  # noqa: E402
from bagel_core.stages.decontaminate import WITHHELD, withhold  # noqa: E402

HANDWRITTEN = Path(__file__).resolve().parents[1] / "benchmarks" / "data" / "handwritten_paraphrases_current.json"


@pytest.fixture(scope="module")
def data_root(tmp_path_factory):
    root = current_benchmarks.write_upstream(tmp_path_factory.mktemp("current-benchmarks"))
    yield root
    shutil.rmtree(root / "Idavidrein")  # GPQA in plain text only while the tests run


@pytest.fixture(scope="module")
def current(data_root):
    return current_benchmarks.load(data_root)


def _alnum(text: str) -> str:
    return re.sub(r"[^0-9a-z]", "", text.lower())


@pytest.fixture(scope="module")
def cases(current):
    """(kind, benchmark, item, query): per set, 4 items verbatim and lightly edited; the
    hand-written paraphrases; GPQA questions through the dev set's paraphrase rules; real
    clean text."""
    out = []
    for bench, texts in sorted(current.items()):
        prompts = [t for t in texts if t.role == "prompt" and t.view in ("prompt", "question", "problem")]
        for k, b in enumerate(_rng(0, "current-test", bench).sample(prompts, 4)):
            rng = _rng(0, "current-test", bench, b.item)
            out.append(("verbatim", bench, b.item, b.text))
            out.append(("light edit", bench, b.item, edit_words(b.text, rng, delete=k % 2 == 0)))
            if bench == "gpqa":
                out.append(("rephrase", bench, b.item, paraphrase(b.text, rng)))
    for row in json.loads(HANDWRITTEN.read_text(encoding="utf-8")):
        out.append(("rephrase", row["benchmark"], row["item"], row["text"]))
    out += [("clean", None, None, t) for t in clean_texts(300, 0)]
    return out


def _queries(cases):
    return [Query(f"c{i}", "t", text, (text,)) for i, (_, _, _, text) in enumerate(cases)]


@pytest.fixture(scope="module")
def index(current, cases):
    wanted = {(b, item) for _, b, item, _ in cases if b}
    # MATH-500's problems are MATH's: their MATH twins are indexed too, as in a real run.
    twins = {t.text for t in current["math_500"] if ("math_500", t.item) in wanted and t.view == "problem"}
    wanted |= {("math", t.item) for t in current["math"] if t.view == "problem" and t.text in twins}
    legacy = [b for texts in benchmark_items().values() for k, b in enumerate(texts) if k % 40 == 0]
    return legacy + [
        b for texts in current.values() for k, b in enumerate(texts) if (b.benchmark, b.item) in wanted or k % 40 == 0
    ]


# Over 20 s (25 CPU seconds): every current set's cases through the three decontaminators.
def test_decontam_current_each_set_caught_verbatim_edited_rephrased_clean_text_not(
    cases, index, static_model, tmp_path
):
    from bagel_core.builtin.decontaminate.embedding import EmbeddingDecontaminator

    queries = _queries(cases)
    decontaminators = [
        EmbeddingDecontaminator(EmbeddingDecontaminator.Options(static_model=static_model), cache_dir=tmp_path),
        NgramDecontaminator(),
        CodeDecontaminator(),
    ]
    found: dict[str, set[str]] = {}
    for d in decontaminators:
        d.index(index)
        for m in d.search(queries):
            found.setdefault(m.id, set()).add(m.benchmark)
    by_kind: dict[tuple[str, str], list[bool]] = {}
    for q, (kind, bench, _, _) in zip(queries, cases):
        # A test item counts when it is removed; which set names it first does not matter
        # (MATH-500's problems are MATH's; MMLU-Pro holds MMLU questions).
        by_kind.setdefault((kind, bench or "-"), []).append(q.id in found)
    # Positions only in messages: GPQA's text stays out of the test output.
    missed = {key: [i for i, hit in enumerate(hits) if not hit] for key, hits in by_kind.items() if key[0] != "clean"}
    for bench in current_benchmarks.NAMES:
        assert all(by_kind[("verbatim", bench)]), missed[("verbatim", bench)]
        # MBPP: 89.5% / 96.8% of light edits measured (its tasks are short and formulaic: the
        # embedding needs 0.95, and a hyphenated word deleted is two words to ngram)
        assert sum(by_kind[("light edit", bench)]) >= (2 if bench == "mbpp" else 4), (
            bench,
            missed[("light edit", bench)],
        )
    rephrased = {b: sum(hits) for (kind, b), hits in by_kind.items() if kind == "rephrase"}
    # At least what the full index measured, less one (docs/decontamination.md); MBPP's
    # rephrases are not caught (its formulaic tasks need a 0.95 threshold), so it has no floor.
    assert {
        b: n >= floor
        for b, n in rephrased.items()
        if (floor := {"bbh": 7, "gpqa": 3, "ifeval": 6, "math": 2, "math_500": 3, "mmlu_pro": 4}.get(b))
    } == {"bbh": True, "gpqa": True, "ifeval": True, "math": True, "math_500": True, "mmlu_pro": True}, rephrased
    assert sum(by_kind[("clean", "-")]) <= 3


def test_decontam_current_withhold_blanks_every_text_of_an_item_matching_a_redacted_set():
    gpqa = Match("a", "s", "ngram", "gpqa", "rec1", 1.0, "the item's turn", "the gpqa question", "question<-turn1")
    other = Match("a", "s", "embedding", "mmlu", "x/1", 0.9, "the item's turn", "an mmlu question", "question<-turn1")
    clean = Match("b", "s", "ngram", "mmlu", "x/2", 1.0, "another turn", "another mmlu question", "question<-turn1")
    [[g], [o, c]] = withhold([[gpqa], [other, clean]], frozenset({"gpqa"}))
    assert (g.text, g.benchmark_text, g.benchmark_item, g.score) == (WITHHELD, WITHHELD, "rec1", 1.0)
    assert (o.text, o.benchmark_text) == (WITHHELD, "an mmlu question")
    assert c == clean


def test_decontam_current_gpqa_text_in_no_output(data_root, static_model, tmp_path):
    """A run (the default decontaminators, GPQA only) over a local source whose items hold a
    real GPQA question verbatim (twice: dedup drops one) and one word off: both are removed,
    the report names the GPQA record and the score, the dedup report withholds the pair's
    texts, and no output file (out folder, work folder past the stages that hold
    the input, the CLI's output) holds any GPQA question."""
    from click.testing import CliRunner

    from bagel_core.cli import cli

    gpqa = next(iter(current_benchmarks.load(data_root, ["gpqa"]).values()))
    questions = [t for t in gpqa if t.view == "question"]
    k = _rng(0, "gpqa-e2e").randrange(len(questions))
    edited = edit_words(questions[k].text, _rng(0, "gpqa-e2e-edit"), delete=True)
    data = tmp_path / "mine.jsonl"
    data.write_text(
        "\n".join(
            json.dumps(r)
            for r in (
                {"instruction": questions[k].text, "output": "B"},
                {"instruction": "Please help: " + edited, "output": "I think it is C."},
                {"instruction": "Name a prime number above 10.", "output": "11"},
                {
                    "instruction": questions[k].text,
                    "output": "A",
                },  # removed by dedup, which runs first: its report quotes both
            )
        )
        + "\n"
    )
    recipe = tmp_path / "r.toml"
    recipe.write_text(f"[source.local]\npaths = [{json.dumps(str(data))}]\n")
    out, work = tmp_path / "out", tmp_path / "work"
    result = CliRunner().invoke(
        cli,
        [
            "run",
            "--recipe",
            str(recipe),
            "--data-root",
            str(data_root),
            "--sources",
            "local",
            "--dpo",
            "none",
            "--formats",
            "vicuna",
            "--benchmarks",
            "gpqa",
            "-o",
            f"decontaminator.embedding.static_model={static_model}",
            "--out",
            str(out),
            "--work-dir",
            str(work),
        ],
    )
    needles = {_alnum(q.text)[:60] for q in questions}
    assert not any(n in _alnum(result.output) for n in needles), "GPQA text in the CLI's output"
    assert result.exit_code == 0, result.output  # checked above to hold no GPQA text
    data.unlink()

    assert [r["completion"] for r in pq.read_table(out / "sft.parquet").to_pylist()] == [" 11"]  # vicuna (the token boundary)
    matches = pq.read_table(out / "contamination.parquet").to_pylist()
    assert {(m["benchmark"], m["benchmark_item"]) for m in matches} == {("gpqa", questions[k].item)}
    assert all(m["text"] == WITHHELD and m["benchmark_text"] == WITHHELD and m["score"] > 0 for m in matches)
    assert json.loads((out / "manifest.json").read_text())["contamination"]["by_benchmark"] == {"gpqa": 2}
    duplicates = pq.read_table(out / "near_duplicates.parquet").to_pylist()
    assert len(duplicates) == 1 and duplicates[0]["text"] == duplicates[0]["kept_text"] == WITHHELD

    leaked, read = [], 0
    for path in sorted(p for p in [*out.rglob("*"), *work.rglob("*")] if p.is_file()):
        if work in path.parents and path.relative_to(work).parts[0] in ("load", "dedup"):
            continue  # the input as loaded: the user's own items, before decontamination
        if path.suffix == ".parquet":
            content = str(pq.read_table(path).to_pylist())
        elif path.suffix in (".npy", ".onnx", ".safetensors", ".bin") or path.stat().st_size > 50_000_000:
            continue  # vectors and models: no text
        else:
            content = path.read_bytes().decode("utf-8", "replace")
        read += 1
        flat = _alnum(content)
        if any(n in flat for n in needles):
            leaked.append(str(path.relative_to(tmp_path)))
    assert read >= 5 and not leaked, leaked
