"""gutenberg-dpo: book chapters written from a summary, the human-written chapter preferred
over a model's; the reference (HEAD) also trained SFT on prompt -> chosen, which replaced the
v0.2 gutenberg plain-text source."""

from __future__ import annotations

from dataclasses import dataclass

from . import SAMPLES
from .common import PublishedPairs, SameResponses


class GutenbergDPO(PublishedPairs):
    name = "gutenberg-dpo"
    description = "gutenberg-dpo v0.1: pairs as published, plus an SFT copy (prompt -> chosen)"
    priority = 2
    dataset_ids = ("jondurbin/gutenberg-dpo-v0.1",)
    sample_root = SAMPLES
    label = "gutenberg-dpo"
    #: The repository's one data file.
    files = {"train": "gutenberg-dpo.parquet"}

    @dataclass
    class Options:
        #: Also emit the pair as an SFT conversation, prompt -> chosen (the reference's HEAD).
        sft_copy: bool = True
        #: When chosen and rejected count as the same (pair dropped): "folded", "exact" or
        #: "none" (the reference compared nothing; see [run] keep_identical_pairs).
        same_responses: SameResponses = "folded"

    options: Options

    def sft_copy(self) -> bool:
        return self.options.sft_copy
