"""pippa: role-play conversations with character personas (kingbri/PIPPA-shareGPT)."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass

from bagel_core import LoadContext, Probability, Record, RefusalPatterns, Source, sft_item
from bagel_core.readers import json_lines

from . import SAMPLES
from .roleplay import roleplay_turns

DATASET = "kingbri/PIPPA-shareGPT"


class Pippa(Source):
    name = "pippa"
    description = "PIPPA role-play: persona + greeting as system prompt, refusals removed, seeded half kept"
    priority = 1
    dataset_ids = (DATASET,)
    license = "unknown"
    terms = "Licence of the kingbri/PIPPA-shareGPT conversion not verified; the original PygmalionAI/PIPPA is apache-2.0 and tagged Not-For-All-Audiences."
    citation = r"""@article{gosling2023pippa,
  title = {PIPPA: A Partially Synthetic Conversational Dataset},
  author = {Gosling, Tear and Dale, Alpin and Zheng, Yinhe},
  journal = {arXiv preprint arXiv:2308.05884},
  year = {2023}
}"""
    content_warning = "Role-play conversations; the original PIPPA is tagged Not-For-All-Audiences on the Hub."
    sample_root = SAMPLES

    @dataclass
    class Options:
        data_file: str = "pippa_sharegpt_trimmed.jsonl"
        #: Share of conversations kept (v0.2: 0.5; HEAD: 0.25).
        keep_probability: Probability = 0.5
        refusal_patterns: RefusalPatterns = "v0.2"

    options: Options

    def load(self, ctx: LoadContext) -> Iterator[Record]:
        for row in json_lines(ctx.dataset_file(DATASET, self.options.data_file), ctx):
            yield from ctx.convert_row(self.convert, row)

    def convert(self, row, ctx: LoadContext):
        turns = roleplay_turns(row, ctx, self.options.refusal_patterns)
        if turns is None:
            return None
        item = sft_item(self.name, turns)
        if not ctx.coin(item["id"], "keep", self.options.keep_probability):
            ctx.filter("not drawn")
            return None
        return item
