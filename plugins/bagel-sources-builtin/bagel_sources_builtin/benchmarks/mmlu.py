"""MMLU test (all subjects): the question, the question with its choices and, for items that
quote a passage (history, law, reading), the passage and the question apart."""

from __future__ import annotations

from collections.abc import Sequence

from bagel_core import BenchmarkText, LoadContext

from .base import HubBenchmark, text

LETTERS = "ABCDEFGHIJ"
#: A question whose lines before the last hold at least this many words quotes a passage.
PASSAGE_WORDS = 40


def split_passage(question: str) -> tuple[str, str]:
    """(passage, question proper) of a passage-based question; ("", question) otherwise."""
    lines = [line for line in question.strip().split("\n") if line.strip()]
    head = "\n".join(lines[:-1])
    if len(lines) > 1 and len(head.split()) >= PASSAGE_WORDS:
        return head, lines[-1].strip()
    return "", question


def mmlu_views(benchmark: str, item: str, question: str, choices: Sequence[str]) -> list[BenchmarkText]:
    """``question`` (the whole question, as the reference indexed it), ``question+choices``
    (what a training item that copies the test item carries) and, for passage-based items,
    ``passage``, ``final question+choices`` (the question after the passage with its choices:
    a training item that paraphrases the passage still asks it) and ``final question`` (that
    question alone: a training item may reword it without passage or choices)."""
    listed = "\n".join(f"{LETTERS[i]}. {c}" for i, c in enumerate(choices) if isinstance(c, str))
    views = [BenchmarkText(benchmark, item, question, "question")]
    if listed:
        views.append(BenchmarkText(benchmark, item, f"{question}\n{listed}", "question+choices"))
    passage, final = split_passage(question)
    if passage:
        views.append(BenchmarkText(benchmark, item, passage, "passage"))
        views.append(BenchmarkText(benchmark, item, f"{final}\n{listed}".strip(), "final question+choices"))
        # A rewording of the question alone (no passage, no choices): the choices dilute it.
        views.append(BenchmarkText(benchmark, item, final, "final question"))
    return views


class Mmlu(HubBenchmark):
    name = "mmlu"
    description = "MMLU all/test: question; question+choices; passage and final question apart"
    dataset_ids = ("cais/mmlu",)
    groups = ("legacy",)
    config = "all"
    splits = ("test",)

    def texts_of_row(self, index, row, split, ctx: LoadContext):
        item = f"{row.get('subject', '')}/{index}"
        if not text(self.name, item, row["question"], ctx):
            return []
        choices = row.get("choices")
        return mmlu_views(self.name, item, row["question"], list(choices) if isinstance(choices, (list, tuple)) else [])
