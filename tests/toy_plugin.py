"""A small plugin used by the engine's tests: two sources sharing some questions, one DPO builder.

Reads ``ROOT/toy/<name>/rows.jsonl`` from the data root. ``BAGEL_TEST_KILL_AFTER=N`` makes
``toy-low`` kill its own process after N rows, to test resuming; ``BAGEL_TEST_SLOW_ROW=S``
makes it sleep S seconds per row, to signal a run while it loads; ``BAGEL_TEST_BUG_AT=N``
makes it fail with a bug (an ``AttributeError``) on row N.
"""

import json
import os
import signal
import time

from bagel_core import DPOBuilder, Source, as_conversation, dpo_pair, hookimpl
from bagel_core.readers import items


class _JsonRows:
    def rows(self, ctx):
        with open(ctx.dataset_file(self.dataset_ids[0], "rows.jsonl")) as fh:
            for line in fh:
                yield json.loads(line)


class ToyHigh(_JsonRows, Source):
    name = "toy-high"
    description = "toy source, priority 5"
    priority = 5
    dataset_ids = ("toy/high",)

    def convert(self, row, ctx):
        return as_conversation("toy-high", row["q"], row["a"], row.get("system"))


class ToyLow(_JsonRows, Source):
    name = "toy-low"
    description = "toy source, priority 1, multi-turn rows"
    priority = 1
    dataset_ids = ("toy/low",)

    def convert(self, row, ctx):
        time.sleep(float(os.environ.get("BAGEL_TEST_SLOW_ROW", 0)))
        if os.environ.get("BAGEL_TEST_BUG_AT") == str(row["n"]):
            None.strip()  # a plugin bug, not bad data
        kill_after = os.environ.get("BAGEL_TEST_KILL_AFTER")
        if kill_after is not None and row["n"] >= int(kill_after):
            os.kill(os.getpid(), signal.SIGKILL)
        if row.get("text"):
            return {"id": row["text"][:8], "source": "toy-low", "text": row["text"]}
        turns = []
        for q, a in items(row, "turns"):
            turns += [{"from": "human", "value": q}, {"from": "gpt", "value": a}]
        from bagel_core import sft_item

        return sft_item("toy-low", turns)


class ToyPairs(_JsonRows, DPOBuilder):
    name = "toy-pairs"
    description = "toy DPO pairs"
    priority = 2
    dataset_ids = ("toy/pairs",)

    def convert(self, row, ctx):
        return dpo_pair("toy-pairs", row["prompt"], row["chosen"], row["rejected"], row.get("system"))


@hookimpl
def register_sources(register):
    register(ToyHigh)
    register(ToyLow)


@hookimpl
def register_dpo_builders(register):
    register(ToyPairs)
