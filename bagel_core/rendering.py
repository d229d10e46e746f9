"""Rendering rules shared by every prompt format.

- one SFT row per assistant turn, holding the conversation up to that turn;
- a format's default system prompt is added to an item without one, with the format's
  probability, decided by (seed, item id, format);
- runs of three or more newlines in a response collapse to one blank line (in the output and
  in earlier answers of the history alike);
- plain-text items are not formatted (empty input, the text as output);
- a DPO prompt is rendered as the input of a one-turn conversation; chosen/rejected stay raw;
- ``copies_per_item`` k < n formats: each item goes to k formats, dealt round-robin in an order
  derived from (seed, item id), so every format gets an equal share (within one item).
"""

from __future__ import annotations

import hashlib
import re
from typing import Iterator, Optional, Sequence

import numpy as np

from . import rng
from .components import Message, PromptFormat
from .records import Turn

_NEWLINES = re.compile(r"\n{3,}")
_ROLE = {"system": "system", "human": "user", "gpt": "assistant"}


def collapse_newlines(text: str) -> str:
    return _NEWLINES.sub("\n\n", text)


def to_messages(turns: Sequence[Turn]) -> list[Message]:
    """ShareGPT turns as chat messages (``role``/``content``)."""
    return [{"role": _ROLE[t["from"]], "content": t["value"]} for t in turns]


def expand(turns: Sequence[Turn]) -> Iterator[tuple[list[Message], str]]:
    """``(messages before the answer, answer)`` for every assistant turn.

    Answers are newline-collapsed, in the history too, so an earlier answer reads in the input
    exactly as it was trained on as an output.
    """
    messages = [
        {**m, "content": collapse_newlines(m["content"])} if m["role"] == "assistant" else m
        for m in to_messages(turns)
    ]
    for index, message in enumerate(messages):
        if message["role"] == "assistant":
            yield messages[:index], message["content"]


def with_system(messages: list[Message], fmt: PromptFormat, seed: int, item_id: str) -> list[Message]:
    """``messages`` with the format's default system prompt added when the coin says so."""
    if messages and messages[0]["role"] == "system":
        return messages
    prompt = fmt.default_system_prompt
    p = fmt.options.system_prompt_probability
    if prompt and p > 0 and rng.coin(seed, item_id, f"system-prompt:{fmt.name}", p):
        return [{"role": "system", "content": prompt}, *messages]
    return messages


def copy_order(ids: Sequence[str], seed: int) -> np.ndarray:
    """Each id's position in a seeded shuffle: the order copies are dealt to formats in."""
    keys = np.fromiter(
        (int.from_bytes(hashlib.blake2b(f"{seed}\x1fcopies\x1f{i}".encode(), digest_size=8).digest(), "big") for i in ids),
        dtype=np.uint64,
        count=len(ids),
    )
    order = np.empty(len(ids), dtype=np.int64)
    # Ties (equal hashes) are broken by the id text so the result is order-independent.
    order[np.lexsort((np.asarray(ids, dtype=str), keys))] = np.arange(len(ids))
    return order


def formats_for(rank: Optional[int], copies: int, n_formats: int) -> range | list[int]:
    """Indices of the formats an item of the given rank goes to."""
    if rank is None or copies >= n_formats:
        return range(n_formats)
    return [(rank * copies + j) % n_formats for j in range(copies)]


class Renderer:
    """Renders SFT items and DPO pairs into rows of the selected formats."""

    def __init__(self, formats: Sequence[PromptFormat], seed: int) -> None:
        self.formats = list(formats)
        self.seed = seed

    def sft_rows(self, item_id: str, source: str, turns: Optional[Sequence[Turn]], text: Optional[str], which) -> Iterator[tuple[str, str, str, str, str]]:
        expanded = None if turns is None else list(expand(turns))
        for index in which:
            fmt = self.formats[index]
            if expanded is None:
                yield item_id, source, fmt.name, "", text or ""
                continue
            for history, answer in expanded:
                messages = with_system(history, fmt, self.seed, item_id)
                yield item_id, source, fmt.name, fmt.render(messages), answer

    def dpo_rows(self, item_id: str, source: str, prompt: str, chosen: str, rejected: str, system: Optional[str], which) -> Iterator[tuple[str, ...]]:
        base: list[Message] = [{"role": "system", "content": system}] if system else []
        base.append({"role": "user", "content": prompt})
        for index in which:
            fmt = self.formats[index]
            messages = with_system(base, fmt, self.seed, item_id)
            yield item_id, source, fmt.name, fmt.render(messages), chosen, rejected
