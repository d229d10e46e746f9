"""AlpacaEval: the 805 instructions of its evaluation set."""

from __future__ import annotations

import json
from collections.abc import Iterator

from bagel_core import BenchmarkSet, BenchmarkText, LoadContext

from .. import SAMPLES
from .base import text


class AlpacaEval(BenchmarkSet):
    name = "alpaca_eval"
    description = "AlpacaEval alpaca_eval.json: instruction"
    dataset_ids = ("tatsu-lab/alpaca_eval",)
    groups = ("legacy",)
    sample_root = SAMPLES
    #: The evaluation set's file at the root of the dataset repository (a JSON list).
    filename = "alpaca_eval.json"

    def texts(self, ctx: LoadContext) -> Iterator[BenchmarkText]:
        path = ctx.dataset_file(self.dataset_ids[0], self.filename)
        for index, row in enumerate(json.loads(path.read_text(encoding="utf-8"))):
            if not isinstance(row, dict):
                ctx.reject("not an object")
                continue
            yield from text(self.name, index, row.get("instruction"), ctx, "instruction")
