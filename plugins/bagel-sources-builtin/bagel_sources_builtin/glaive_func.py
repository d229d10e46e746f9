"""glaive_func: function-calling conversations (glaiveai/glaive-function-calling-v2), their
markers turned into the reference's prompt convention.

Upstream, ``system`` holds ``SYSTEM: `` and the function definitions, and ``chat`` the whole
conversation as ``USER:``, ``ASSISTANT:`` and ``FUNCTION RESPONSE:`` segments; a call reads
``<functioncall> {...} <|endoftext|>``. The reference (and so bagel) writes:

- a call: ``<|begin_func|> {...} <|end_func|>`` in the assistant turn;
- other assistant turns: ``<|endoftext|>`` removed;
- a function's result: a human turn ``<|begin_func_response|>{...}<|end_func_response|>``.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import ClassVar

from bagel_core import LoadContext, Source, Turn, sft_item
from bagel_core.readers import text

from . import SAMPLES

DATASET = "glaiveai/glaive-function-calling-v2"
BEGIN_FUNC, END_FUNC = "<|begin_func|>", "<|end_func|>"
BEGIN_RESPONSE, END_RESPONSE = "<|begin_func_response|>", "<|end_func_response|>"
_UPSTREAM_CALL, _UPSTREAM_END = "<functioncall>", "<|endoftext|>"
# A segment runs from its role marker to the next marker (anywhere, as the reference split).
_SEGMENT = re.compile(r"(USER|ASSISTANT|FUNCTION RESPONSE):(.*?)(?=(?:USER|ASSISTANT|FUNCTION RESPONSE):|$)", re.DOTALL)


def assistant_turn(value: str) -> str:
    """An upstream assistant segment in the reference's convention."""
    if _UPSTREAM_CALL in value:
        value = value.replace(_UPSTREAM_CALL, BEGIN_FUNC).replace(_UPSTREAM_END, END_FUNC)
    else:
        value = value.replace(_UPSTREAM_END, "")
    return value.strip()


def chat_turns(chat: str) -> list[Turn]:
    """The human/gpt turns of an upstream ``chat`` (function results are human turns)."""
    turns: list[Turn] = []
    for role, value in _SEGMENT.findall(chat):
        if role == "USER":
            turns.append({"from": "human", "value": value.strip()})
        elif role == "ASSISTANT":
            turns.append({"from": "gpt", "value": assistant_turn(value)})
        else:
            turns.append({"from": "human", "value": f"{BEGIN_RESPONSE}{value.strip()}{END_RESPONSE}"})
    return turns


class GlaiveFunc(Source):
    name = "glaive_func"
    description = "glaive function calling v2: conversations with function calls/results in <|begin_func|>-style markers, 10,000 drawn"
    priority = 2
    dataset_ids = (DATASET,)
    license = "apache-2.0"
    sample_root = SAMPLES
    #: The reference's source label.
    label = "glaive-func"
    #: The reference kept a seeded 10,000 (applied by the core's cap).
    max_items: ClassVar[int | None] = 10_000

    @dataclass
    class Options:
        #: Strip the system prompt of surrounding whitespace. Upstream each one ends in a
        #: newline, which the reference kept (``false``: the system prompt as given, less its
        #: ``SYSTEM: `` prefix; the llama-2 layout then shows it).
        strip_system: bool = True

    options: Options

    def rows(self, ctx: LoadContext):
        return ctx.load_dataset(DATASET, data_files={"train": "glaive-function-calling-v2.json"})

    def convert(self, row, ctx: LoadContext):
        turns = chat_turns(text(row, "chat"))
        if not turns:
            ctx.reject("no USER/ASSISTANT segments")
            return None
        if turns[0]["from"] != "human" or turns[-1]["from"] != "gpt":
            # The reference skipped these too ("unexpected format"): a chat cut off after the
            # user's turn, or one opening with the assistant.
            ctx.filter("not user first and assistant last")
            return None
        system = text(row, "system").replace("SYSTEM: ", "")
        if self.options.strip_system:
            system = system.strip()
        head: list[Turn] = [{"from": "system", "value": system}] if system.strip() else []
        return sft_item(self.label, head + turns)
