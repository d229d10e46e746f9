"""sql: text-to-SQL with the tables' CREATE statements as context (b-mc2/sql-create-context),
which replaced spider at the reference's HEAD."""

from __future__ import annotations

from typing import ClassVar

from bagel_core import LoadContext, Source, as_conversation
from bagel_core.readers import text

from . import SAMPLES

DATASET = "b-mc2/sql-create-context"
#: Its one data file (a JSON array), named so that a conversion adding or renaming files
#: upstream (an open pull request renames it to .csv) cannot change what is read.
FILES = {"train": "sql_create_context_v4.json"}
PREAMBLE = "Using the context provided, please generate a SQL query to answer the question."


class Sql(Source):
    name = "sql"
    description = "sql-create-context: schema (CREATE TABLE) + question -> SQL query, 10,000 drawn"
    priority = 2
    dataset_ids = (DATASET,)
    sample_root = SAMPLES
    #: The reference kept 10,000 (its draw unseeded; bagel's is seeded, by the core's cap).
    max_items: ClassVar[int | None] = 10_000

    def rows(self, ctx: LoadContext):
        return ctx.load_dataset(DATASET, data_files=FILES)

    def convert(self, row, ctx: LoadContext):
        instruction = "\n".join([PREAMBLE, f"Context: {text(row, 'context')}", f"Question: {text(row, 'question')}"])
        return as_conversation(self.name, instruction, text(row, "answer"))
