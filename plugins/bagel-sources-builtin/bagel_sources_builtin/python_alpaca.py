"""python_alpaca: tested python instructions (Vezora/Tested-22k-Python-Alpaca)."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass

from bagel_core import LoadContext, Record, RefusalPatterns, Source, as_conversation, is_refusal
from bagel_core.readers import text

from . import SAMPLES
from .humaneval_filter import HUMANEVAL_ID, HumanEvalFilter

DATASET = "Vezora/Tested-22k-Python-Alpaca"
#: Its one data file, oddly named (the repository also holds the authors' .py tools).
FILES = {"train": "188k-Vezora-PyCode-Alpaca.json"}


class PythonAlpaca(Source):
    name = "python_alpaca"
    description = "Tested-22k-Python-Alpaca instruction (+ input) -> output (refusals, HumanEval overlap removed)"
    priority = 1
    dataset_ids = (DATASET, HUMANEVAL_ID)
    license = "unknown"
    terms = "Licence of Vezora/Tested-22k-Python-Alpaca not verified for this card; openai_humaneval (MIT) is only used to filter out overlapping problems."
    sample_root = SAMPLES

    @dataclass
    class Options:
        #: Refusal pattern set applied to the output ("v0.2" or "head").
        refusal_patterns: RefusalPatterns = "v0.2"

    options: Options

    def load(self, ctx: LoadContext) -> Iterator[Record]:
        self.humaneval = HumanEvalFilter.load(ctx)
        for row in ctx.iter_rows(ctx.load_dataset(DATASET, data_files=FILES)):
            yield from ctx.convert_row(self.convert, row)

    def convert(self, row, ctx: LoadContext):
        instruction, output = text(row, "instruction"), text(row, "output")
        if is_refusal(output, self.options.refusal_patterns):
            ctx.filter("refusal")
            return None
        if self.humaneval.matches(output):
            ctx.filter("humaneval overlap")
            return None
        # The reference dropped the input column; alpaca inputs belong in the instruction.
        extra = row.get("input") or ""
        if extra.strip():
            instruction = f"{instruction}\n\n{extra}"
        return as_conversation(self.name, instruction, output)
