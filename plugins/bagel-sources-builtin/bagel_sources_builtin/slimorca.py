"""slimorca: GPT-4-verified OpenOrca instructions (Open-Orca/SlimOrca), seeded sample."""

from __future__ import annotations

from dataclasses import dataclass

from bagel_core import LoadContext, Record, RefusalPatterns, Source, Turn, is_refusal, sft_item
from bagel_core.readers import items, text

from . import SAMPLES

DATASET = "Open-Orca/SlimOrca"
#: Its one data file (ShareGPT JSON lines).
FILES = {"train": "oo-labeled_correct.gpt4.sharegpt.jsonl"}
AIROBOROS_32 = "jondurbin/airoboros-3.2"


def airoboros_multiturn_openers(ctx: LoadContext) -> set[str]:
    """Stripped turn-1 texts of airoboros-3.2's ``slimorca_multiturn`` rows (HEAD's skip list)."""
    openers = set()
    for row in ctx.iter_rows(ctx.load_dataset(AIROBOROS_32)):
        turns = row.get("conversations") or []
        if row.get("category") == "slimorca_multiturn" and len(turns) > 1 and isinstance(turns[1].get("value"), str):
            openers.add(turns[1]["value"].strip())
    return openers


class SlimOrca(Source):
    name = "slimorca"
    description = "SlimOrca conversations (refusals removed, seeded sample)"
    priority = 2
    dataset_ids = (DATASET, AIROBOROS_32)
    license = "mit"
    terms = "MIT (Open-Orca/SlimOrca); jondurbin/airoboros-3.2 is read too (licence not verified). Responses generated with OpenAI models: whether OpenAI's terms of use bind beyond the dataset's licence is unsettled (the seed model cards raise the same question)."
    sample_root = SAMPLES
    #: Seeded sample after filtering (v0.2: 100,000, then 50,000 by its global cap; HEAD:
    #: 200,000).
    max_items = 100_000

    @dataclass
    class Options:
        refusal_patterns: RefusalPatterns = "v0.2"
        #: HEAD: skip rows that airoboros-3.2 extended to multi-turn (reads airoboros-3.2).
        skip_airoboros_multiturn: bool = False

    options: Options

    def setup(self, ctx: LoadContext) -> None:
        self.skip: set[str] = airoboros_multiturn_openers(ctx) if self.options.skip_airoboros_multiturn else set()

    def rows(self, ctx: LoadContext):
        return ctx.load_dataset(DATASET, data_files=FILES)

    def convert(self, row, ctx: LoadContext) -> Record | None:
        turns: list[Turn] = [{"from": text(t, "from"), "value": text(t, "value")} for t in items(row, "conversations")]
        if is_refusal("\n".join(t["value"] for t in turns), self.options.refusal_patterns):
            ctx.filter("refusal")
            return None
        first = next((t["value"] for t in turns if t["from"] != "system"), "")
        if first.strip() in self.skip:
            ctx.filter("extended in airoboros-3.2")
            return None
        return sft_item(self.name, turns)
