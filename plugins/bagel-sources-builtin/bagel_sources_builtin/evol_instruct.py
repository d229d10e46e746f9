"""evol_instruct: WizardLM's evolved instructions with gpt answers (reference HEAD)."""

from __future__ import annotations

from dataclasses import dataclass

from bagel_core import LoadContext, Source, as_conversation, is_refusal
from bagel_core.readers import text
from bagel_core.refusals import RefusalPatterns

from . import SAMPLES

#: The Hub moved it from WizardLM/ (the reference's id; still found under --data-root, see
#: bagel_core.data.RENAMED); one JSON array file.
DATASET = "WizardLMTeam/WizardLM_evol_instruct_70k"
FILES = {"train": "alpaca_evol_instruct_70k.json"}


class EvolInstruct(Source):
    name = "evol_instruct"
    description = "WizardLM evol-instruct 70k: instruction -> output, refusals removed"
    priority = 2
    dataset_ids = (DATASET,)
    sample_root = SAMPLES

    @dataclass
    class Options:
        #: Refusal patterns tested on the output (HEAD's, as the reference of that time).
        refusal_patterns: RefusalPatterns = "head"

    options: Options

    def rows(self, ctx: LoadContext):
        return ctx.load_dataset(DATASET, data_files=FILES)

    def convert(self, row, ctx: LoadContext):
        instruction, output = text(row, "instruction"), text(row, "output")
        if is_refusal(output, self.options.refusal_patterns):
            ctx.filter("refusal")
            return None
        return as_conversation(self.name, instruction, output)
