"""helpsteer: pairs from NVIDIA HelpSteer's attribute scores (the cards' rule).

Per prompt: chosen is the highest-scoring response among those with correctness 4 (score =
sum of the five attributes); rejected is a seeded random choice among responses with a
strictly lower score. Responses that look like refusals are dropped first.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass
from typing import Iterator

from bagel_core import DPOBuilder, LoadContext, Record, dpo_pair, is_refusal, uid

from . import SAMPLES

ATTRIBUTES = ("helpfulness", "correctness", "coherence", "complexity", "verbosity")


class HelpSteer(DPOBuilder):
    name = "helpsteer"
    description = "HelpSteer: best correctness-4 response vs a lower-scoring one"
    priority = 2
    dataset_ids = ("nvidia/HelpSteer",)
    sample_root = SAMPLES

    @dataclass
    class Options:
        #: Correctness a response needs to be chosen.
        chosen_correctness: int = 4

    def load(self, ctx: LoadContext) -> Iterator[Record]:
        groups: dict[str, list[tuple[str, int, int]]] = defaultdict(list)
        prompts: dict[str, str] = {}
        for row in ctx.load_dataset(self.dataset_ids[0], data_files={"train": "train.jsonl.gz"}):
            try:
                prompt, response = row["prompt"], row["response"]
                score = sum(int(row[a]) for a in ATTRIBUTES)
                correctness = int(row["correctness"])
                if not isinstance(prompt, str) or not isinstance(response, str):
                    raise TypeError("prompt and response must be text")
            except (KeyError, TypeError, ValueError) as exc:
                ctx.reject(f"malformed row ({type(exc).__name__})")
                continue
            if is_refusal(response):
                ctx.filter("refusal")
                continue
            key = uid(prompt)
            prompts[key] = prompt
            groups[key].append((response, score, correctness))
        for key, rows in groups.items():
            best = max(
                (r for r in rows if r[2] >= self.options.chosen_correctness),
                key=lambda r: r[1],
                default=None,
            )
            if best is None:
                ctx.filter("no correct response")
                continue
            lower = [r for r in rows if r[1] < best[1] and r[0] != best[0]]
            if not lower:
                ctx.filter("no lower-scoring response")
                continue
            rejected = ctx.choice(key, "rejected", lower)
            yield dpo_pair("helpsteer", prompts[key], best[0], rejected[0], id=key)
