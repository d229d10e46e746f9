"""ropes: reading comprehension that applies a background passage to a new situation
(allenai/ropes, which the reference loaded by its old short name ``ropes``)."""

from __future__ import annotations

from bagel_core import LoadContext, Source, as_conversation
from bagel_core.readers import field, text, texts

from . import SAMPLES

DATASET = "allenai/ropes"
PREAMBLE = "Read the following background information, then apply the knowledge to the question that follows."
SYSTEM = "You are a helpful assistant that answers questions concisely."


class Ropes(Source):
    name = "ropes"
    description = "ROPES train: background, situation and question -> first answer, concise-answer system prompt"
    priority = 3
    dataset_ids = (DATASET,)
    sample_root = SAMPLES

    def rows(self, ctx: LoadContext):
        # The train split of whatever files the dataset has (its layout was not confirmed offline).
        return ctx.load_dataset(DATASET, split="train")

    def convert(self, row, ctx: LoadContext):
        found = texts(field(row, "answers"), "text")
        if not found or not found[0].strip():
            ctx.reject("no answer")
            return None
        instruction = "\n".join(
            [
                PREAMBLE,
                "",
                "Background:",
                text(row, "background"),
                "",
                "Question:",
                text(row, "situation"),
                text(row, "question"),
            ]
        )
        return as_conversation(self.name, instruction, found[0], system=SYSTEM)
