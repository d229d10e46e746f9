"""comedy_snippets: short comedy texts trained on as plain text (reference HEAD)."""

from __future__ import annotations

from dataclasses import dataclass

from bagel_core import LoadContext, Source, plain_text
from bagel_core.readers import text

from . import SAMPLES

DATASET = "unalignment/comedy-snippets-v0.1"


class ComedySnippets(Source):
    name = "comedy_snippets"
    description = "comedy-snippets v0.1: each snippet as plain text"
    priority = 2
    dataset_ids = (DATASET,)
    sample_root = SAMPLES
    #: The reference's source label.
    label = "comedy-snippets"

    @dataclass
    class Options:
        data_files: str = "comedy-snippets.parquet"

    options: Options

    def rows(self, ctx: LoadContext):
        return ctx.load_dataset(DATASET, data_files={"train": self.options.data_files})

    def convert(self, row, ctx: LoadContext):
        snippet = text(row, "snippet")
        if not snippet.strip():
            ctx.reject("empty snippet")
            return None
        return plain_text(self.label, snippet)
