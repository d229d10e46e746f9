"""toxic-dpo: unalignment's pairs of a compliant (chosen) and a refusing (rejected) answer to
harmful prompts, as published. No refusal filter, by design of the set."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

from . import SAMPLES
from .common import PublishedPairs, SameResponses

#: version -> (dataset id, data_files); v0.1 is what the v0.2 reference read, v0.2 what HEAD read.
VERSIONS: dict[str, tuple[str, dict[str, str] | None]] = {
    "v0.1": ("unalignment/toxic-dpo-v0.1", {"train": "toxic-dpo.parquet"}),
    "v0.2": ("unalignment/toxic-dpo-v0.2", {"train": "toxic-dpo.parquet"}),
}


class ToxicDPO(PublishedPairs):
    name = "toxic-dpo"
    description = "toxic-dpo: pairs as published (prompt, chosen, rejected), chosen != rejected"
    priority = 2
    dataset_ids = tuple(dataset_id for dataset_id, _ in VERSIONS.values())
    license = "cc-by-4.0"
    content_warning = "Toxic by design: the chosen responses comply with harmful requests (the set is meant to undo safety tuning); tagged Not-For-All-Audiences upstream."
    sample_root = SAMPLES
    label = "toxic-dpo"

    @dataclass
    class Options:
        #: Upstream version: "v0.1" (reference v0.2) or "v0.2" (reference HEAD).
        version: Literal["v0.1", "v0.2"] = "v0.1"
        #: Also emit each pair as an SFT conversation, prompt -> chosen, as the reference did
        #: from 2024-01 (bagel v0.5); off by default so the v0.1/v0.2 recipes stay faithful.
        sft_copy: bool = False
        #: When chosen and rejected count as the same (pair dropped): "folded" or "exact".
        same_responses: SameResponses = "folded"

    options: Options

    def upstream(self) -> tuple[str, dict[str, str] | None]:
        return VERSIONS[self.options.version]

    def sft_copy(self) -> bool:
        return self.options.sft_copy
