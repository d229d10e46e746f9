"""capybara: multi-turn conversations (LDJnr/Capybara)."""

from __future__ import annotations

from bagel_core import LoadContext, Source, Turn, sft_item
from bagel_core.readers import items, text

from . import SAMPLES


class Capybara(Source):
    name = "capybara"
    description = "Capybara multi-turn conversations, each input/output pair a human/gpt exchange"
    priority = 2
    dataset_ids = ("LDJnr/Capybara",)
    license = "unknown"
    terms = "Licence of LDJnr/Capybara not verified for this card."
    sample_root = SAMPLES

    def rows(self, ctx: LoadContext):
        return ctx.load_dataset(self.dataset_ids[0])

    def convert(self, row, ctx: LoadContext):
        turns: list[Turn] = []
        for exchange in items(row, "conversation"):
            turns.append({"from": "human", "value": text(exchange, "input")})
            turns.append({"from": "gpt", "value": text(exchange, "output")})
        return sft_item(self.name, turns)
