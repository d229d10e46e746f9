"""helpsteer: pairs from NVIDIA HelpSteer's attribute scores (the cards' rule).

Responses that look like refusals are dropped first. Rows are grouped by prompt, in upstream
order; a response's score is the sum of its five attributes. Per prompt with two responses or
more: chosen is the highest-scoring response of correctness 4 (the first on a tie); rejected is
a seeded random choice among the responses with a strictly lower score that differ from it.
The reference instead took the first response of correctness 4 as chosen, replaced once (and
then stopped) by the first later correctness-4 response with a higher score, the replaced one
becoming rejected; otherwise rejected was the first response of lower correctness, whatever its
score (``pairing = "reference"``).
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass
from typing import Any, Literal, NamedTuple

from bagel_core import DPOBuilder, LoadContext, Record, RefusalPatterns, dpo_pair, is_refusal, uid
from bagel_core.readers import integer, text

from . import SAMPLES
from .common import SameResponses, differ

ATTRIBUTES = ("helpfulness", "correctness", "coherence", "complexity", "verbosity")


class Rated(NamedTuple):
    response: str
    score: int
    correctness: int


def rate(row: Mapping[str, Any]) -> Rated:
    """The response of ``row`` with its score; raises on a missing or non-integer attribute."""
    values = [integer(row, a) for a in ATTRIBUTES]
    return Rated(text(row, "response"), sum(values), row["correctness"])


def reference_pair(rows: Sequence[Rated], correctness: int) -> tuple[str, str] | None:
    """(chosen, rejected) as the reference chose them from one prompt's responses, in order."""
    chosen: Rated | None = None
    rejected: str | None = None
    for r in rows:
        if r.correctness == correctness:
            if chosen is None:
                chosen = r
            elif r.score > chosen.score:
                rejected, chosen = chosen.response, r
                break
        elif not rejected:  # the reference tested truthiness: an empty answer did not count
            rejected = r.response
    return (chosen.response, rejected) if chosen is not None and rejected else None


class HelpSteer(DPOBuilder):
    name = "helpsteer"
    description = "HelpSteer: best correctness-4 response vs a random lower-scoring one"
    priority = 2
    dataset_ids = ("nvidia/HelpSteer",)
    license = "cc-by-4.0"
    citation = r"""@article{wang2023helpsteer,
  title = {HelpSteer: Multi-attribute Helpfulness Dataset for SteerLM},
  author = {Wang, Zhilin and Dong, Yi and Zeng, Jiaqi and Adams, Virginia and Sreedhar, Makesh Narsimhan and Egert, Daniel and Delalleau, Olivier and Scowcroft, Jane Polak and Kant, Neel and Swope, Aidan and Kuchaiev, Oleksii},
  journal = {arXiv preprint arXiv:2311.09528},
  year = {2023}
}"""
    sample_root = SAMPLES

    @dataclass
    class Options:
        #: Correctness a response needs to be chosen.
        chosen_correctness: int = 4
        #: Refusal patterns tested on every response: "v0.2" or "head".
        refusal_patterns: RefusalPatterns = "v0.2"
        #: ``cards``: the best correctness-4 response vs a random strictly lower-scoring one;
        #: ``reference``: the reference's choice (see the module's docstring).
        pairing: Literal["cards", "reference"] = "cards"
        #: When chosen and rejected count as the same (pair dropped): "folded" or "exact".
        same_responses: SameResponses = "folded"

    options: Options

    def load(self, ctx: LoadContext) -> Iterator[Record]:
        groups: dict[str, list[Rated]] = defaultdict(list)
        prompts: dict[str, str] = {}
        for row in ctx.iter_rows(ctx.load_dataset(self.dataset_ids[0], data_files={"train": "train.jsonl.gz"})):
            rated = None
            with ctx.guard(row):
                prompt, rated = text(row, "prompt"), rate(row)
            if rated is None:
                continue
            if is_refusal(rated.response, self.options.refusal_patterns):
                ctx.filter("refusal")
                continue
            key = uid(prompt)
            prompts[key] = prompt
            groups[key].append(rated)
        # Filters below count prompts, not rows.
        for key, rows in groups.items():
            if len(rows) < 2:
                ctx.filter("single response")
                continue
            if self.options.pairing == "reference":
                pair = reference_pair(rows, self.options.chosen_correctness)
                if pair is None:
                    ctx.filter("no correct and other response")
                elif not differ(*pair, self.options.same_responses):
                    ctx.filter("chosen equals rejected")
                else:
                    yield dpo_pair("helpsteer", prompts[key], *pair, id=key)
                continue
            correct = [r for r in rows if r.correctness >= self.options.chosen_correctness]
            if not correct:
                ctx.filter("no correct response")
                continue
            best = max(correct, key=lambda r: r.score)
            lower = [
                r
                for r in rows
                if r.score < best.score and differ(best.response, r.response, self.options.same_responses)
            ]
            if not lower:
                ctx.filter("no lower-scoring response")
                continue
            rejected = ctx.choice(key, "rejected", lower)
            yield dpo_pair("helpsteer", prompts[key], best.response, rejected.response, id=key)
