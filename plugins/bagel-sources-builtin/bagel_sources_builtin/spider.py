"""spider: text-to-SQL questions answered with the SQL query (no schema, as the reference)."""

from __future__ import annotations

from dataclasses import dataclass

from bagel_core import LoadContext, Source, as_conversation
from bagel_core.readers import text

from . import SAMPLES

PREAMBLE = "Write a SQL query for the following:"


class Spider(Source):
    name = "spider"
    description = "Spider train: 'Write a SQL query for the following:' + question -> query"
    priority = 1
    dataset_ids = ("xlangai/spider",)
    sample_root = SAMPLES

    @dataclass
    class Options:
        data_files: str = "spider/train-*.parquet"

    def rows(self, ctx: LoadContext):
        return ctx.load_dataset(self.dataset_ids[0], data_files={"train": self.options.data_files})

    def convert(self, row, ctx: LoadContext):
        return as_conversation(self.name, f"{PREAMBLE}\n{text(row, 'question')}", text(row, "query"))
