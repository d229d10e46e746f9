"""MMLU-Pro test: MMLU's views (question, question with its ten choices, passage apart)."""

from __future__ import annotations

from bagel_core import LoadContext

from .base import HubBenchmark, text
from .mmlu import mmlu_views


class MmluPro(HubBenchmark):
    name = "mmlu_pro"
    description = "MMLU-Pro data/test: question; question+choices (up to ten); passage and final question apart"
    dataset_ids = ("TIGER-Lab/MMLU-Pro",)
    groups = ("current",)
    config = "data"
    splits = ("test",)

    def texts_of_row(self, index, row, split, ctx: LoadContext):
        item = str(row.get("question_id") if row.get("question_id") is not None else index)
        if not text(self.name, item, row["question"], ctx):
            return []
        options = row.get("options")
        return mmlu_views(self.name, item, row["question"], list(options) if isinstance(options, (list, tuple)) else [])
