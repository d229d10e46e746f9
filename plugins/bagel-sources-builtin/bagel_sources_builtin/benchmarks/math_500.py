"""MATH-500 (the 500 MATH test problems of OpenAI's PRM800K split): problem; solution."""

from __future__ import annotations

from collections.abc import Iterator

from bagel_core import BenchmarkSet, BenchmarkText, LoadContext

from .. import SAMPLES
from .base import text
from .hendrycks_math import math_views

FILE = "test.jsonl"


class Math500(BenchmarkSet):
    name = "math_500"
    description = "MATH-500 test.jsonl: problem; solution (answer view); ids are MATH's test/<subject>/<n>.json"
    dataset_ids = ("HuggingFaceH4/MATH-500",)
    groups = ("current",)
    sample_root = SAMPLES

    def texts(self, ctx: LoadContext) -> Iterator[BenchmarkText]:
        rows = ctx.load_dataset(self.dataset_ids[0], split="test", data_files={"test": FILE})
        for index, row in enumerate(ctx.iter_rows(rows)):
            found: list[BenchmarkText] = []
            with ctx.guard(row):
                item = str(row.get("unique_id") or index)
                if text(self.name, item, row["problem"], ctx):
                    found = math_views(self.name, item, row["problem"], row.get("solution"))
            yield from found
