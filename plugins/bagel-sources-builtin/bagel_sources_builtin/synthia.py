"""synthia: GPT-4 synthetic instructions with system prompts (migtissera/Synthia-v1.3)."""

from __future__ import annotations

import re
from dataclasses import dataclass

from bagel_core import LoadContext, Record, RefusalPatterns, Source, Turn, is_refusal, sft_item
from bagel_core.readers import optional_text, text

from . import SAMPLES

DATASET = "migtissera/Synthia-v1.3"
#: The repository's one data file (the reference read the whole dataset, which is this file).
DATA_FILE = "Synthia-v1.3.jsonl"
# A role marker in quotes means the text talks about the vicuna format: too odd to parse.
_QUOTED_MARKER = re.compile(r"['\"](USER|ASSISTANT):?['\"]")
_MARKER = re.compile(r"(USER:|ASSISTANT:)")


def split_turns(instruction: str) -> list[Turn]:
    """Human/gpt turns of an instruction that embeds earlier turns as ``USER:``/``ASSISTANT:``."""
    parts = _MARKER.split(instruction)
    turns: list[Turn] = []
    if parts[0].strip():
        turns.append({"from": "human", "value": parts[0].lstrip()})
    for marker, segment in zip(parts[1::2], parts[2::2]):
        turns.append({"from": "human" if marker == "USER:" else "gpt", "value": segment.lstrip()})
    return turns


class Synthia(Source):
    name = "synthia"
    description = "Synthia v1.3 instructions with system prompts (refusals removed, seeded sample)"
    priority = 1
    dataset_ids = (DATASET,)
    license = "unknown"
    terms = "Licence of migtissera/Synthia-v1.3 not verified for this card. Responses generated with OpenAI models: whether OpenAI's terms of use bind beyond the dataset's licence is unsettled (the seed model cards raise the same question)."
    sample_root = SAMPLES
    #: Seeded sample after filtering (v0.2: 15,000; HEAD: 25,000).
    max_items = 15_000

    @dataclass
    class Options:
        refusal_patterns: RefusalPatterns = "v0.2"

    options: Options

    def rows(self, ctx: LoadContext):
        return ctx.load_dataset(DATASET, data_files={"train": DATA_FILE})

    def convert(self, row, ctx: LoadContext) -> Record | None:
        system = optional_text(row, "system") or ""
        instruction, response = text(row, "instruction"), text(row, "response")
        if "USER" in system or _QUOTED_MARKER.search(instruction):
            ctx.filter("vicuna-style markers")
            return None
        turns: list[Turn] = [{"from": "system", "value": system}] if system.strip() else []
        if "USER:" in instruction:
            turns += split_turns(instruction)
        else:
            turns.append({"from": "human", "value": instruction})
        turns.append({"from": "gpt", "value": response})
        if is_refusal("\n".join(t["value"] for t in turns), self.options.refusal_patterns):
            ctx.filter("refusal")
            return None
        return sft_item(self.name, turns)
