"""GSM8K (main config) test: the question."""

from __future__ import annotations

from bagel_core import LoadContext

from .base import HubBenchmark, text


class Gsm8k(HubBenchmark):
    name = "gsm8k"
    description = "GSM8K main/test: question"
    dataset_ids = ("openai/gsm8k",)
    config = "main"
    splits = ("test",)

    def texts_of_row(self, index, row, split, ctx: LoadContext):
        return text(self.name, index, row["question"], ctx)
