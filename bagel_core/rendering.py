"""Rendering rules shared by every prompt format.

- one SFT row per assistant turn, holding the conversation up to that turn;
- a format's default system prompt is added to an item without one, with the format's
  probability, decided by (seed, item id, format);
- answers are newline-cleaned by the run's ``newlines`` rule (in the output and in earlier
  answers of the history alike): by default runs of three or more newlines collapse to one
  blank line;
- plain-text items are not formatted and are written once, whatever the formats (empty input,
  the text as output, format ``plain-text``), as the reference did;
- a DPO prompt is rendered as the input of a one-turn conversation; chosen/rejected stay raw;
- ``copies_per_item`` k < n formats: each item goes to k formats, either dealt round-robin in an
  order derived from (seed, item id), so every format gets an equal share (``spread``), drawn
  at random per item from (seed, item id) (``random``, what the reference did at v0.2 with k=1),
  or cut into the reference's overlapping chunks (``chunks``, 3c7d241 with k = n - 1): SFT items
  in that seeded order, DPO pairs in their loaded order, unshuffled, as the reference left them.
"""

from __future__ import annotations

import hashlib
import re
from collections.abc import Iterator, Sequence
from typing import Literal

import numpy as np

from . import rng
from .components import Message, PromptFormat
from .containment import contained, who
from .records import Turn

_NEWLINES = re.compile(r"\n{3,}")
# The reference's rule from January 2024 on (3c7d241): three or more lines that hold nothing but
# whitespace, with that whitespace, become one blank line.
_BLANK_LINES = re.compile(r"(\s*\n){3,}")
#: ShareGPT role -> chat message role.
ROLE_NAMES = {"system": "system", "human": "user", "gpt": "assistant"}

#: The ``format`` of a plain-text row: it is written once, in no prompt format.
PLAIN_TEXT = "plain-text"

#: How answers are cleaned of newline runs: ``newline-runs`` (bagel's default: 3+ newlines ->
#: one blank line), ``none`` (the reference at v0.1 and v0.2), ``blank-line-runs`` (the
#: reference later: 3+ whitespace-only line ends, spaces included -> one blank line).
NewlineRule = Literal["newline-runs", "none", "blank-line-runs"]
#: How the k of n formats of an item are chosen when ``copies_per_item`` < n.
FormatAssignment = Literal["spread", "random", "chunks"]


def collapse_newlines(text: str) -> str:
    # The substring test is much cheaper than the regex, and most texts have nothing to collapse.
    return _NEWLINES.sub("\n\n", text) if "\n\n\n" in text else text


def collapse_blank_lines(text: str) -> str:
    return _BLANK_LINES.sub("\n\n", text) if "\n" in text else text


def _no_change(text: str) -> str:
    return text


NEWLINE_RULES = {"newline-runs": collapse_newlines, "none": _no_change, "blank-line-runs": collapse_blank_lines}


def to_messages(turns: Sequence[Turn]) -> list[Message]:
    """ShareGPT turns as chat messages (``role``/``content``)."""
    return [{"role": ROLE_NAMES[t["from"]], "content": t["value"]} for t in turns]


def expand(turns: Sequence[Turn], newlines: NewlineRule = "newline-runs") -> Iterator[tuple[list[Message], str]]:
    """``(messages before the answer, answer)`` for every assistant turn.

    Answers are newline-cleaned, in the history too, so an earlier answer reads in the input
    exactly as it was trained on as an output.
    """
    messages = cleaned_messages(turns, newlines)
    for index, message in enumerate(messages):
        if message["role"] == "assistant":
            yield messages[:index], message["content"]


def cleaned_messages(turns: Sequence[Turn], newlines: NewlineRule = "newline-runs") -> list[Message]:
    """``turns`` as chat messages, answers newline-cleaned (see :func:`expand`)."""
    clean = NEWLINE_RULES[newlines]
    return [{**m, "content": clean(m["content"])} if m["role"] == "assistant" else m for m in to_messages(turns)]


def _system_purpose(fmt: PromptFormat) -> str:
    return f"system-prompt:{fmt.name}"


def copy_order(ids: Sequence[str], seed: int) -> np.ndarray:
    """Each id's position in a seeded shuffle: the order copies are dealt to formats in."""
    keys = np.fromiter(
        (
            int.from_bytes(hashlib.blake2b(f"{seed}\x1fcopies\x1f{i}".encode(), digest_size=8).digest(), "big")
            for i in ids
        ),
        dtype=np.uint64,
        count=len(ids),
    )
    order = np.empty(len(ids), dtype=np.int64)
    # Ties (equal hashes) are broken by the id text so the result is order-independent.
    order[np.lexsort((np.asarray(ids, dtype=str), keys))] = np.arange(len(ids))
    return order


def formats_for(rank: int | None, copies: int, n_formats: int) -> range | list[int]:
    """Indices of the formats an item of the given rank goes to (``spread``)."""
    if rank is None or copies >= n_formats:
        return range(n_formats)
    return [(rank * copies + j) % n_formats for j in range(copies)]


def random_formats(seed: int, item_id: str, copies: int, n_formats: int) -> range | list[int]:
    """``copies`` distinct format indices drawn for one item (``random``), fixed by (seed, id).

    Unlike ``spread`` the shares per format are only equal on average, as with the reference's
    ``random.choice`` per item at v0.2.
    """
    if copies >= n_formats:
        return range(n_formats)
    return sorted(rng.generator(seed, item_id, "formats").sample(range(n_formats), copies))


def chunk_formats(position: int, total: int, n_formats: int) -> list[int]:
    """Indices of the formats the item at ``position`` of ``total`` goes to (``chunks``): the
    reference's cut at 3c7d241 (``data.py``, ``_get_chunks``), each format taking all items but
    one quarter-sized slice. With q = total - total*(n-1)//n, format 0 leaves out the last q
    items and format f >= 1 the slice [(f-1)q, fq); when total is not a multiple of n the
    slices overlap, so a few items get fewer than n - 1 formats, as in the reference."""
    quarter = total - total * (n_formats - 1) // n_formats
    return [
        f
        for f in range(n_formats)
        if not (position >= total - quarter if f == 0 else (f - 1) * quarter <= position < f * quarter)
    ]


def dealt_formats(
    ids: Sequence[str],
    seed: int,
    copies: int | None,
    n_formats: int,
    assignment: FormatAssignment,
    in_order: bool = False,
) -> list:
    """The format indices of each of ``ids`` (every dealt item of one output; in their loaded
    order when ``in_order``, which ``chunks`` deals DPO pairs by), as the render stage deals
    them: what ``bagel run --plan`` counts."""
    if copies is None or copies >= n_formats:
        return [range(n_formats)] * len(ids)
    if assignment == "random":
        return [random_formats(seed, i, copies, n_formats) for i in ids]
    if assignment == "chunks":
        places = range(len(ids)) if in_order else copy_order(ids, seed)
        return [chunk_formats(int(p), len(ids), n_formats) for p in places]
    return [formats_for(int(rank), copies, n_formats) for rank in copy_order(ids, seed)]


class Renderer:
    """Renders SFT items and DPO pairs into rows of the selected formats."""

    def __init__(self, formats: Sequence[PromptFormat], seed: int, newlines: NewlineRule = "newline-runs") -> None:
        self.formats = list(formats)
        self.seed = seed
        self.newlines = newlines
        # Per format: the default system message, its probability, and the coin stream (one
        # coin per item and format, seeded by the run), with the hash prefix computed once.
        self._defaults = [
            (
                {"role": "system", "content": f.default_system_prompt},
                f.options.system_prompt_probability,
                rng.Stream(seed, _system_purpose(f)),
            )
            if f.default_system_prompt and f.options.system_prompt_probability > 0
            else None
            for f in self.formats
        ]

    def _default_system(self, index: int, item_id: str) -> Message | None:
        default = self._defaults[index]
        if default is not None and default[2].uniform(item_id) < default[1]:
            return default[0]
        return None

    def sft_parts(
        self, item_id: str, turns: Sequence[Turn] | None, text: str | None, which
    ) -> Iterator[tuple[int, str, str]]:
        """``(format index, input, output)`` per row of an SFT item. An output is the same string
        object in every format unless a format rewrites it, so a caller can store it once.

        A plain-text item gives one row whatever ``which`` holds, with format index
        ``len(self.formats)`` (:data:`PLAIN_TEXT`): repeating a book chapter once per format
        would train on it n times.
        """
        if turns is None:
            yield len(self.formats), "", text or ""
            return
        # Each history is sliced when its row is rendered: holding them all (n/2 lists of up to
        # n messages) cost memory quadratic in the turns.
        messages = cleaned_messages(turns, self.newlines)
        answers = [at for at, m in enumerate(messages) if m["role"] == "assistant"]
        has_system = bool(turns) and turns[0]["from"] == "system"
        for index in which:
            fmt = self.formats[index]
            # One coin per item and format, so every turn of a conversation agrees.
            system = None if has_system else self._default_system(index, item_id)
            with contained(who(type(fmt))):
                for at in answers:
                    history = [system, *messages[:at]] if system is not None else messages[:at]
                    yield index, fmt.render(history), fmt.output(messages[at]["content"])

    def dpo_parts(self, item_id: str, prompt: str, system: str | None, which) -> Iterator[tuple[int, str]]:
        """``(format index, rendered prompt)`` per row of a DPO pair."""
        user: Message = {"role": "user", "content": prompt}
        for index in which:
            chosen_system = {"role": "system", "content": system} if system else self._default_system(index, item_id)
            with contained(who(type(self.formats[index]))):
                rendered = self.formats[index].render([chosen_system, user] if chosen_system is not None else [user])
            yield index, rendered

    def format_name(self, index: int) -> str:
        return self.formats[index].name if index < len(self.formats) else PLAIN_TEXT

    def sft_rows(
        self, item_id: str, source: str, turns: Sequence[Turn] | None, text: str | None, which
    ) -> Iterator[tuple[str, str, str, str, str]]:
        """Rows ``(id, source, format, input, output)`` of one SFT item."""
        for index, rendered, output in self.sft_parts(item_id, turns, text, which):
            yield item_id, source, self.format_name(index), rendered, output

    def dpo_rows(
        self, item_id: str, source: str, prompt: str, chosen: str, rejected: str, system: str | None, which
    ) -> Iterator[tuple[str, ...]]:
        """Rows ``(id, source, format, prompt, chosen, rejected)`` of one DPO pair."""
        for index, rendered in self.dpo_parts(item_id, prompt, system, which):
            yield item_id, source, self.formats[index].name, rendered, chosen, rejected
