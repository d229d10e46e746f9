"""ai2_arc: ARC-Challenge science questions with lettered options."""

from __future__ import annotations

from dataclasses import dataclass

from bagel_core import LoadContext, Source

from . import SAMPLES
from .choices import labelled_choice_item
from .fields import text, texts


class Ai2Arc(Source):
    name = "ai2_arc"
    description = "ARC-Challenge train: science multiple choice, lettered options, answer key (+ text)"
    priority = 3
    dataset_ids = ("allenai/ai2_arc",)
    sample_root = SAMPLES

    @dataclass
    class Options:
        #: Upstream files of the train split (ARC-Easy is not used).
        data_files: str = "ARC-Challenge/train-*.parquet"
        #: Share of items asking for the letter only.
        letter_only_probability: float = 0.5

    def rows(self, ctx: LoadContext):
        return ctx.load_dataset(self.dataset_ids[0], data_files={"train": self.options.data_files})

    def convert(self, row, ctx: LoadContext):
        choices = row["choices"]
        return labelled_choice_item(
            self.name,
            text(row, "question"),
            texts(choices["label"], "choices.label"),
            texts(choices["text"], "choices.text"),
            text(row, "answerKey"),
            ctx,
            self.options.letter_only_probability,
        )
