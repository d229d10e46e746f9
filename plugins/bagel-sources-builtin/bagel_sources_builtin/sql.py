"""sql: text-to-SQL with the tables' CREATE statements as context (b-mc2/sql-create-context),
which replaced spider at the reference's HEAD."""

from __future__ import annotations

from typing import ClassVar, Optional

from bagel_core import LoadContext, Source, as_conversation
from bagel_core.readers import text

from . import SAMPLES

DATASET = "b-mc2/sql-create-context"
PREAMBLE = "Using the context provided, please generate a SQL query to answer the question."


class Sql(Source):
    name = "sql"
    description = "sql-create-context: schema (CREATE TABLE) + question -> SQL query, 10,000 drawn"
    priority = 2
    dataset_ids = (DATASET,)
    sample_root = SAMPLES
    #: The reference kept a seeded 10,000 (applied by the core's cap).
    max_items: ClassVar[Optional[int]] = 10_000

    def rows(self, ctx: LoadContext):
        # Every file of the dataset: its file name was not confirmed offline.
        return ctx.load_dataset(DATASET)

    def convert(self, row, ctx: LoadContext):
        instruction = "\n".join(
            [PREAMBLE, f"Context: {text(row, 'context')}", f"Question: {text(row, 'question')}"]
        )
        return as_conversation(self.name, instruction, text(row, "answer"))
