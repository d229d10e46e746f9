"""IFEval: the prompt of each of its 541 verifiable-instruction items."""

from __future__ import annotations

from collections.abc import Iterator

from bagel_core import BenchmarkSet, BenchmarkText, LoadContext

from .. import SAMPLES
from .base import text

#: The one file of google/IFEval (the google-research repository's input_data.jsonl).
FILE = "ifeval_input_data.jsonl"


class IfEval(BenchmarkSet):
    name = "ifeval"
    description = "IFEval ifeval_input_data.jsonl: prompt"
    dataset_ids = ("google/IFEval",)
    groups = ("current",)
    sample_root = SAMPLES

    def texts(self, ctx: LoadContext) -> Iterator[BenchmarkText]:
        rows = ctx.load_dataset(self.dataset_ids[0], split="train", data_files={"train": FILE})
        for index, row in enumerate(ctx.iter_rows(rows)):
            found: list[BenchmarkText] = []
            with ctx.guard(row):
                found = text(
                    self.name, row.get("key") if row.get("key") is not None else index, row["prompt"], ctx, "prompt"
                )
            yield from found
