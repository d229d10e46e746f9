"""TruthfulQA (generation config) validation: the question."""

from __future__ import annotations

from bagel_core import LoadContext

from .base import HubBenchmark, text


class TruthfulQA(HubBenchmark):
    name = "truthfulqa"
    description = "TruthfulQA generation/validation: question"
    dataset_ids = ("truthfulqa/truthful_qa",)
    groups = ("legacy",)
    config = "generation"
    splits = ("validation",)

    def texts_of_row(self, index, row, split, ctx: LoadContext):
        return text(self.name, index, row["question"], ctx, "question")
