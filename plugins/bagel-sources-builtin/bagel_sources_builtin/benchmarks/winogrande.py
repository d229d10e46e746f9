"""Winogrande (XL config) validation: the sentence with its blank."""

from __future__ import annotations

from bagel_core import LoadContext

from .base import HubBenchmark, text


class Winogrande(HubBenchmark):
    name = "winogrande"
    description = "Winogrande winogrande_xl validation: sentence"
    dataset_ids = ("allenai/winogrande",)
    groups = ("legacy",)
    config = "winogrande_xl"
    splits = ("validation",)

    def texts_of_row(self, index, row, split, ctx: LoadContext):
        return text(self.name, index, row["sentence"], ctx, "sentence")
