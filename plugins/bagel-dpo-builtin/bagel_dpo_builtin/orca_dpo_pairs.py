"""orca_dpo_pairs: Intel's Orca DPO pairs, by default argilla's distilabel re-rating of them.

The distilabel variant (the reference at HEAD) keeps a row when its rating is no tie, the
chosen response scored ``min_chosen_score`` or more, the prompt is not from the GSM8K train set,
chosen is no refusal and differs from rejected. The ``intel`` variant (the reference at v0.2)
has no ratings: only the refusal and equality filters apply. Upstream system prompts are kept.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any, Literal

from bagel_core import LoadContext, RefusalPatterns, RowError, is_refusal

from . import SAMPLES
from .common import PublishedPairs, SameResponses

#: variant -> (dataset id, data_files, prompt column)
VARIANTS: dict[str, tuple[str, dict[str, str], str]] = {
    "distilabel": ("argilla/distilabel-intel-orca-dpo-pairs", {"train": "data/train-*.parquet"}, "input"),
    "intel": ("Intel/orca_dpo_pairs", {"train": "orca_rlhf.jsonl"}, "question"),
}


class OrcaDPOPairs(PublishedPairs):
    name = "orca-dpo-pairs"
    description = "orca_dpo_pairs (distilabel): no ties, chosen score >= 8, not GSM8K train, no refusal"
    priority = 2
    dataset_ids = tuple(v[0] for v in VARIANTS.values())
    license = "unknown"
    terms = "argilla/distilabel-intel-orca-dpo-pairs is apache-2.0 (an open pull request there proposes cc-by-nc-4.0); the licence of Intel/orca_dpo_pairs is not verified for this card. Responses generated with OpenAI models: whether OpenAI's terms of use bind beyond the dataset's licence is unsettled (the seed model cards raise the same question)."
    sample_root = SAMPLES
    label = "orca_dpo_pairs"
    system_column = "system"

    @dataclass
    class Options:
        #: "distilabel" (argilla's re-rated set, reference HEAD) or "intel" (reference v0.2).
        variant: Literal["distilabel", "intel"] = "distilabel"
        #: Lowest chosen_score kept (distilabel only).
        min_chosen_score: float = 8.0
        #: Refusal patterns tested on chosen: "v0.2" or "head".
        refusal_patterns: RefusalPatterns = "v0.2"
        #: When chosen and rejected count as the same (pair dropped): "folded" or "exact".
        same_responses: SameResponses = "folded"

    options: Options

    def upstream(self) -> tuple[str, dict[str, str] | None]:
        dataset_id, data_files, _ = VARIANTS[self.options.variant]
        return dataset_id, data_files

    @property
    def prompt_column(self) -> str:  # type: ignore[override]
        return VARIANTS[self.options.variant][2]

    def keep(self, row: Mapping[str, Any], chosen: str, ctx: LoadContext) -> bool:
        if self.options.variant == "distilabel" and not self._rated_well(row, ctx):
            return False
        if is_refusal(chosen, self.options.refusal_patterns):
            ctx.filter("refusal in chosen")
            return False
        return True

    def _rated_well(self, row: Mapping[str, Any], ctx: LoadContext) -> bool:
        status, score, in_gsm8k = row["status"], row["chosen_score"], row["in_gsm8k_train"]
        if (
            not isinstance(status, str)
            or not isinstance(in_gsm8k, bool)
            or not isinstance(score, (int, float, str, type(None)))
        ):
            raise RowError("wrong type", "status must be text, in_gsm8k_train a bool and chosen_score a number")
        if status == "tie":
            ctx.filter("tie")
            return False
        # A missing score cannot show the chosen response is good: filtered, as a low score.
        if score is None or float(score) < self.options.min_chosen_score:
            ctx.filter("chosen score below minimum")
            return False
        if in_gsm8k:
            ctx.filter("in GSM8K train")
            return False
        return True
