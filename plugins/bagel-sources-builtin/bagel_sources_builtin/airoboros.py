"""airoboros: gpt-4 synthetic instructions across many categories, as ShareGPT conversations.

The v0.2 reference (and the cards' body) read ``unalignment/spicy-3.1``; from 2024-01-02 the
reference read ``jondurbin/airoboros-3.2`` (the cards' YAML header) and skipped its
``summarization`` rows, which the ``summarization`` source covers. Both are options.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

from bagel_core import LoadContext, Source, readers, sft_item

from . import SAMPLES

#: Upstream dataset and data files (None: every file) of each version.
VERSIONS = {
    "spicy-3.1": ("unalignment/spicy-3.1", {"train": "conversations-no-mathjson.json"}),
    "airoboros-3.2": ("jondurbin/airoboros-3.2", None),
}


class Airoboros(Source):
    name = "airoboros"
    description = "airoboros synthetic instructions (gpt-4), conversations verbatim"
    priority = 1
    dataset_ids = tuple(dataset_id for dataset_id, _ in VERSIONS.values())
    license = "unknown"
    terms = "Licences of unalignment/spicy-3.1 and jondurbin/airoboros-3.2 not verified for this card. Responses generated with OpenAI models: whether OpenAI's terms of use bind beyond the dataset's licence is unsettled (the seed model cards raise the same question)."
    sample_root = SAMPLES

    @dataclass
    class Options:
        #: "spicy-3.1" (v0.2 reference) or "airoboros-3.2" (HEAD reference).
        version: Literal["spicy-3.1", "airoboros-3.2"] = "spicy-3.1"
        #: Categories to leave out; HEAD skips ("summarization",).
        skip_categories: tuple[str, ...] = ()

    options: Options

    def rows(self, ctx: LoadContext):
        dataset_id, data_files = VERSIONS[self.options.version]
        return ctx.load_dataset(dataset_id, data_files=data_files)

    def convert(self, row, ctx: LoadContext):
        category = readers.text(row, "category")
        if category in self.options.skip_categories:
            ctx.filter(f"category {category}")
            return None
        # The id is the uid of the human turns (the instruction), as in every source.
        return sft_item(f"airoboros_{category}", readers.turns(row))
