"""openbookqa: OpenBookQA elementary science questions, phrased like ai2_arc."""

from __future__ import annotations

from dataclasses import dataclass

from bagel_core import LoadContext, Source

from . import SAMPLES
from .choices import labelled_choice_item
from .fields import text, texts


class OpenBookQA(Source):
    name = "openbookqa"
    description = "OpenBookQA main train: question stem, lettered options, answer key (+ text)"
    priority = 3
    dataset_ids = ("allenai/openbookqa",)
    sample_root = SAMPLES

    @dataclass
    class Options:
        #: Upstream files of the `main` config's train split (the `additional` facts are unused).
        data_files: str = "main/train-*.parquet"
        #: Share of items asking for the letter only.
        letter_only_probability: float = 0.5

    def rows(self, ctx: LoadContext):
        return ctx.load_dataset(self.dataset_ids[0], data_files={"train": self.options.data_files})

    def convert(self, row, ctx: LoadContext):
        choices = row["choices"]
        return labelled_choice_item(
            self.name,
            text(row, "question_stem"),
            texts(choices["label"], "choices.label"),
            texts(choices["text"], "choices.text"),
            text(row, "answerKey"),
            ctx,
            self.options.letter_only_probability,
        )
