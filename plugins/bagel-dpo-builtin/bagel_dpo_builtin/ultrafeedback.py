"""ultrafeedback: AllenAI's cleaned, binarized UltraFeedback (split ``train_gen``).

A row is a pair when the chosen response scored ``min_chosen_score`` or more, both sides are
one user message then one assistant message with non-blank text, chosen is no refusal, and the
two responses differ beyond case and surrounding whitespace. The reference checked only the
chosen side's shape; the rejected side is validated the same way here.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from bagel_core import (
    DPOBuilder,
    LoadContext,
    Record,
    RefusalPatterns,
    dpo_pair,
    is_refusal,
)
from bagel_core.readers import items, number, text

from . import SAMPLES
from .common import SameResponses, differ


class UltraFeedback(DPOBuilder):
    name = "ultrafeedback"
    description = "UltraFeedback binarized cleaned: chosen score >= 8, single turn, no refusal"
    priority = 2
    dataset_ids = ("allenai/ultrafeedback_binarized_cleaned",)
    license = "mit"
    citation = r"""@article{cui2023ultrafeedback,
  title = {UltraFeedback: Boosting Language Models with High-quality Feedback},
  author = {Cui, Ganqu and Yuan, Lifan and Ding, Ning and Yao, Guanming and Zhu, Wei and Ni, Yuan and Xie, Guotong and Liu, Zhiyuan and Sun, Maosong},
  journal = {arXiv preprint arXiv:2310.01377},
  year = {2023}
}"""
    sample_root = SAMPLES

    @dataclass
    class Options:
        split: str = "train_gen"
        #: Lowest score_chosen kept.
        min_chosen_score: float = 8.0
        #: Refusal patterns tested on the chosen response: "v0.2" or "head".
        refusal_patterns: RefusalPatterns = "v0.2"
        #: When chosen and rejected count as the same (pair dropped): "folded" or "exact".
        same_responses: SameResponses = "folded"

    options: Options

    def rows(self, ctx: LoadContext):
        split = self.options.split
        return ctx.load_dataset(self.dataset_ids[0], split=split, data_files={split: f"data/{split}-*.parquet"})

    def convert(self, row: Mapping[str, Any], ctx: LoadContext) -> Record | None:
        prompt, score = text(row, "prompt"), number(row, "score_chosen")
        if score < self.options.min_chosen_score:
            ctx.filter("chosen score below minimum")
            return None
        sides = []
        for side in ("chosen", "rejected"):
            messages = items(row, side)
            if len(messages) != 2:
                ctx.filter("not single-turn")
                return None
            user, answer = messages
            if text(user, "role") != "user" or text(answer, "role") != "assistant":
                ctx.reject(f"{side}: roles are not user, assistant")
                return None
            if not text(answer, "content").strip():
                ctx.reject(f"{side}: empty response")
                return None
            text(user, "content")
            sides.append(answer["content"])
        chosen, rejected = sides
        if is_refusal(chosen, self.options.refusal_patterns):
            ctx.filter("refusal in chosen")
            return None
        if not differ(chosen, rejected, self.options.same_responses):
            ctx.filter("chosen equals rejected")
            return None
        # id = uid(prompt), like every DPO pair (the reference hashed the chosen side's user
        # message, which is the same text upstream).
        return dpo_pair("ultrafeedback", prompt, chosen, rejected)
