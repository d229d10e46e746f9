"""GSM8K (main config) test: the question, and the reference solution as an ``answer`` view."""

from __future__ import annotations

import re

from bagel_core import BenchmarkText, LoadContext

from .base import HubBenchmark, text

#: GSM8K's calculator annotations (``<<48/2=24>>``), which no rephrased solution carries.
_CALCULATOR = re.compile(r"<<[^>]*>>")


def solution_prose(answer: str) -> str:
    """A GSM8K answer as a person would write it: calculator annotations dropped, the final
    ``#### 18`` line as "The answer is 18."."""
    body, _, final = _CALCULATOR.sub("", answer).partition("####")
    ending = f"The answer is {final.strip()}." if final.strip() else ""
    return "\n".join(part for part in (body.strip(), ending) if part)


def gsm8k_views(benchmark: str, item: str, question: str, answer: object) -> list[BenchmarkText]:
    """``question`` (checked against human turns) and, when there is one, ``solution``
    (checked against answers: a training item that holds the test solution is contaminated
    even when its question is reworded beyond recognition)."""
    views = [BenchmarkText(benchmark, item, question, "question")]
    if isinstance(answer, str) and answer.strip():
        views.append(BenchmarkText(benchmark, item, solution_prose(answer), "solution", "answer"))
    return views


class Gsm8k(HubBenchmark):
    name = "gsm8k"
    description = "GSM8K main/test: question; solution (answer view)"
    dataset_ids = ("openai/gsm8k",)
    groups = ("legacy",)
    config = "main"
    splits = ("test",)

    def texts_of_row(self, index, row, split, ctx: LoadContext):
        if not text(self.name, index, row["question"], ctx):
            return []
        return gsm8k_views(self.name, str(index), row["question"], row.get("answer"))
