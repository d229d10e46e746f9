"""contextual-dpo: pairs teaching the context-obedient (RAG) format: answer from the given
BEGININPUT/BEGINCONTEXT blocks, or say the context does not hold the answer (reference HEAD)."""

from __future__ import annotations

from dataclasses import dataclass

from . import SAMPLES
from .common import PublishedPairs, SameResponses


class ContextualDPO(PublishedPairs):
    name = "contextual-dpo"
    description = "contextual-dpo v0.1: context-obedient QA pairs as published, chosen != rejected"
    priority = 2
    dataset_ids = ("jondurbin/contextual-dpo-v0.1",)
    sample_root = SAMPLES
    label = "contextual-dpo"
    #: The repository's one data file.
    files = {"train": "contextual-dpo.parquet"}

    @dataclass
    class Options:
        #: When chosen and rejected count as the same (pair dropped): "folded" or "exact".
        same_responses: SameResponses = "folded"
