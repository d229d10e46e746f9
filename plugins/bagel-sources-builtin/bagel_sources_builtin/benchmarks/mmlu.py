"""MMLU test (all subjects): the question alone, without its choices."""

from __future__ import annotations

from bagel_core import LoadContext

from .base import HubBenchmark, text


class Mmlu(HubBenchmark):
    name = "mmlu"
    description = "MMLU all/test: question only"
    dataset_ids = ("cais/mmlu",)
    config = "all"
    splits = ("test",)

    def texts_of_row(self, index, row, split, ctx: LoadContext):
        return text(self.name, f"{row.get('subject', '')}/{index}", row["question"], ctx)
