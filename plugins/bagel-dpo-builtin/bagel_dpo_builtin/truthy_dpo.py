"""truthy-dpo: pairs teaching truthfulness about the model itself and the world, as published,
with their system prompt kept (it says whether the answer is an AI's or a role-played human's)."""

from __future__ import annotations

from dataclasses import dataclass

from . import SAMPLES
from .common import PublishedPairs, SameResponses


class TruthyDPO(PublishedPairs):
    name = "truthy-dpo"
    description = "truthy-dpo: pairs as published with their system prompt, chosen != rejected"
    priority = 2
    dataset_ids = ("jondurbin/truthy-dpo-v0.1",)
    license = "cc-by-4.0"
    sample_root = SAMPLES
    label = "truthy-dpo"
    system_column = "system"
    #: The repository's one data file.
    files = {"train": "truthy-dpo.parquet"}

    @dataclass
    class Options:
        #: When chosen and rejected count as the same (pair dropped): "folded" or "exact".
        same_responses: SameResponses = "folded"
