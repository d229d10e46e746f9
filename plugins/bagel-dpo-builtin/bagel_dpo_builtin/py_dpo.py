"""py-dpo: python answers, a tested solution preferred over a weaker model's (reference HEAD)."""

from __future__ import annotations

from dataclasses import dataclass

from . import SAMPLES
from .common import PublishedPairs, SameResponses


class PyDPO(PublishedPairs):
    name = "py-dpo"
    description = "py-dpo v0.1: python pairs as published, chosen != rejected"
    priority = 2
    dataset_ids = ("jondurbin/py-dpo-v0.1",)
    sample_root = SAMPLES
    label = "py-dpo"
    #: The repository's one data file.
    files = {"train": "py-dpo.parquet"}

    @dataclass
    class Options:
        #: When chosen and rejected count as the same (pair dropped): "folded", "exact" or
        #: "none" (the reference compared nothing; see [run] keep_identical_pairs).
        same_responses: SameResponses = "folded"
