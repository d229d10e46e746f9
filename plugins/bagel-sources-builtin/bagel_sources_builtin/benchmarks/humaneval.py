"""HumanEval test: the function signature and docstring a model completes."""

from __future__ import annotations

from bagel_core import LoadContext

from ..humaneval_filter import HUMANEVAL_ID
from .base import HubBenchmark, text


class HumanEval(HubBenchmark):
    name = "humaneval"
    description = "HumanEval test: prompt"
    # The same upstream files (and sample) as the HumanEval substring filter of the code sources.
    dataset_ids = (HUMANEVAL_ID,)
    config = "openai_humaneval"
    splits = ("test",)

    def texts_of_row(self, index, row, split, ctx: LoadContext):
        return text(self.name, row.get("task_id") or index, row["prompt"], ctx)
