"""MATH (Hendrycks et al.) test, its seven subjects: the problem, and the reference solution as
an ``answer`` view. The original release (hendrycks/competition_math) is gone from the Hub;
EleutherAI/hendrycks_math is where evaluation harnesses read it now."""

from __future__ import annotations

from bagel_core import BenchmarkText, LoadContext

from .base import FoldersBenchmark, text

SUBJECTS = (
    "algebra",
    "counting_and_probability",
    "geometry",
    "intermediate_algebra",
    "number_theory",
    "prealgebra",
    "precalculus",
)


def math_views(benchmark: str, item: str, problem: str, solution: object) -> list[BenchmarkText]:
    """``problem`` (checked against human turns) and, when there is one, ``solution`` (checked
    against answers: a training answer that holds the worked test solution is contaminated
    whatever its question says)."""
    views = [BenchmarkText(benchmark, item, problem, "problem")]
    if isinstance(solution, str) and solution.strip():
        views.append(BenchmarkText(benchmark, item, solution, "solution", "answer"))
    return views


class Math(FoldersBenchmark):
    name = "math"
    description = "MATH test, 7 subjects (<subject>/test): problem; solution (answer view)"
    dataset_ids = ("EleutherAI/hendrycks_math",)
    groups = ("current",)
    configs = SUBJECTS
    splits = ("test",)

    def texts_of_config_row(self, config, index, row, ctx: LoadContext):
        item = f"{config}/{index}"
        if not text(self.name, item, row["problem"], ctx):
            return []
        return math_views(self.name, item, row["problem"], row.get("solution"))
