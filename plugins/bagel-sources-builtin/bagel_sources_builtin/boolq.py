"""boolq: yes/no questions about a passage, answered "true" or "false"."""

from __future__ import annotations

from dataclasses import dataclass

from bagel_core import LoadContext, Source, as_conversation

from . import SAMPLES
from .fields import text

PREAMBLE = "Read the passage of text provided below, then answer the question."


class BoolQ(Source):
    name = "boolq"
    description = "BoolQ train: passage + 'True or false - <question>', answer true/false"
    priority = 3
    dataset_ids = ("google/boolq",)
    sample_root = SAMPLES

    @dataclass
    class Options:
        data_files: str = "data/train-*.parquet"

    def rows(self, ctx: LoadContext):
        return ctx.load_dataset(self.dataset_ids[0], data_files={"train": self.options.data_files})

    def convert(self, row, ctx: LoadContext):
        answer = row.get("answer")
        if answer is None:
            raise KeyError("answer")
        if not isinstance(answer, bool):
            raise TypeError("answer is not a bool")
        instruction = f"{PREAMBLE}\n\n{text(row, 'passage')}\n\nTrue or false - {text(row, 'question')}"
        return as_conversation(self.name, instruction, "true" if answer else "false")
