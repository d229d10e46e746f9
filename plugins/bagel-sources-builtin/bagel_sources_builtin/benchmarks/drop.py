"""DROP validation: each question with its passage, as the reference indexed it."""

from __future__ import annotations

from bagel_core import LoadContext

from .base import HubBenchmark, text


class Drop(HubBenchmark):
    name = "drop"
    description = "DROP validation: passage + LF + question"
    dataset_ids = ("ucinlp/drop",)
    groups = ("legacy",)
    config = "data"
    splits = ("validation",)

    def texts_of_row(self, index, row, split, ctx: LoadContext):
        passage, question = row["passage"], row["question"]
        if not isinstance(passage, str) or not isinstance(question, str):
            ctx.reject("missing or empty text")
            return []
        return text(self.name, row.get("query_id") or index, f"{passage}\n{question}", ctx, "passage+question")
