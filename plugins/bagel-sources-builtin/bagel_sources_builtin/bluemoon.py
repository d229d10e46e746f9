"""bluemoon: role-play conversations from the Blue Moon forums (cleaned, fandom 1-1)."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass

from bagel_core import LoadContext, Record, Source, readers, sft_item

from . import SAMPLES
from .roleplay import fold_greeting

DATASET = "Squish42/bluemoon-fandom-1-1-rp-cleaned"


class Bluemoon(Source):
    name = "bluemoon"
    description = (
        "Blue Moon role-play, multi-turn conversations verbatim (opening gpt message folded into the system prompt)"
    )
    priority = 1
    dataset_ids = (DATASET,)
    license = "unknown"
    terms = "Licence of Squish42/bluemoon-fandom-1-1-rp-cleaned not verified for this card (role-play posts scraped from a forum)."
    sample_root = SAMPLES

    @dataclass
    class Options:
        #: The single raw JSON array the reference fetched.
        data_file: str = "data/pruned/bluemoon.train.json"

    options: Options

    def load(self, ctx: LoadContext) -> Iterator[Record]:
        path = ctx.dataset_file(DATASET, self.options.data_file)
        for row in readers.json_rows(path, ctx):
            yield from ctx.convert_row(self.convert, row)

    def convert(self, row, ctx: LoadContext):
        # The reference used the row id; the id is the instruction's, as everywhere.
        turns = fold_greeting(readers.turns(row))
        if turns is None:
            ctx.filter("no human turn")
            return None
        return sft_item(self.name, turns)
