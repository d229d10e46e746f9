"""airoboros rewrites: writing and roleplay answers that airoboros 3.x regenerated longer,
preferred over the older answer to the same instruction in airoboros-gpt4-m2.0.

The old set is keyed by its instruction lower-cased and stripped (categories ``writing`` and
``roleplay`` only; a later duplicate overwrites an earlier one). A 3.x row of those categories
whose first exchange is (optional system, or required with ``require_system``,) human, gpt becomes a pair when its instruction's key
is in the old set and its answer is strictly longer (in characters) than the old one:
prompt = the instruction as written, chosen = the new answer, rejected = the old answer,
system = the row's system prompt. Only pairs are emitted; the conversations themselves are
SFT items of the ``airoboros`` source.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from typing import Any, Literal

from bagel_core import DPOBuilder, LoadContext, Record, dpo_pair
from bagel_core.readers import json_lines, text, turns

from . import SAMPLES

#: version -> (dataset id, data_files); spicy-3.1 is what the v0.2 reference read.
VERSIONS: dict[str, tuple[str, dict[str, str] | None]] = {
    "spicy-3.1": ("unalignment/spicy-3.1", {"train": "conversations-no-mathjson.json"}),
    "3.2": ("jondurbin/airoboros-3.2", None),
}
OLD_SET = "jondurbin/airoboros-gpt4-m2.0"
OLD_FILE = "instructions.jsonl"


def key(instruction: str) -> str:
    """The join key of an instruction across the two sets."""
    return instruction.strip().lower()


class AiroborosRewrites(DPOBuilder):
    name = "airoboros-rewrites"
    description = "airoboros 3.x writing/roleplay rewrites (chosen) vs the shorter m2.0 answer"
    priority = 1
    dataset_ids = (*(v[0] for v in VERSIONS.values()), OLD_SET)
    license = "unknown"
    terms = "Licences of unalignment/spicy-3.1, jondurbin/airoboros-3.2 and jondurbin/airoboros-gpt4-m2.0 not verified for this card. Responses generated with OpenAI models: whether OpenAI's terms of use bind beyond the dataset's licence is unsettled (the seed model cards raise the same question)."
    sample_root = SAMPLES

    @dataclass
    class Options:
        #: airoboros 3.x release: "spicy-3.1" (reference v0.2) or "3.2" (reference HEAD).
        version: Literal["spicy-3.1", "3.2"] = "spicy-3.1"
        #: Categories whose answers were rewritten.
        categories: tuple[str, ...] = ("roleplay", "writing")
        #: Pair only rows that open with a system prompt, as the reference did (it looked for
        #: the instruction in the second turn): rows without one stay SFT items only.
        require_system: bool = False

    options: Options

    def load(self, ctx: LoadContext) -> Iterator[Record]:
        old = self._old_answers(ctx)
        dataset_id, data_files = VERSIONS[self.options.version]
        for row in ctx.iter_rows(ctx.load_dataset(dataset_id, data_files=data_files)):
            yield from ctx.convert_row(lambda r, c: self._pair(r, c, old), row)

    def _old_answers(self, ctx: LoadContext) -> dict[str, str]:
        """key(instruction) -> response of the old set, for the rewritten categories."""
        answers: dict[str, str] = {}
        for row in json_lines(ctx.dataset_file(OLD_SET, OLD_FILE), ctx):
            with ctx.guard(row):
                category, instruction, response = text(row, "category"), text(row, "instruction"), text(row, "response")
                if category in self.options.categories:
                    answers[key(instruction)] = response
        return answers

    def _pair(self, row: Mapping[str, Any], ctx: LoadContext, old: dict[str, str]) -> Record | None:
        category = text(row, "category")
        if category not in self.options.categories:
            ctx.filter("category not rewritten")
            return None
        conversation = turns(row)
        system = text(conversation[0], "value") if conversation[0]["from"] == "system" else None
        if system is None and self.options.require_system:
            ctx.filter("no system prompt")
            return None
        first = conversation[1:3] if system is not None else conversation[0:2]
        if len(first) != 2 or first[0]["from"] != "human" or first[1]["from"] != "gpt":
            ctx.reject("first exchange is not human, gpt")
            return None
        instruction, answer = text(first[0], "value"), text(first[1], "value")
        previous = old.get(key(instruction))
        if previous is None:
            ctx.filter("not in old set")
            return None
        if len(answer) <= len(previous):
            ctx.filter("rewrite not longer")
            return None
        return dpo_pair(f"airoboros_{category}", instruction, answer, previous, system=system)
