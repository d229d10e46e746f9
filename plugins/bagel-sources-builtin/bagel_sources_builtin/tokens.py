"""Token counts for length filters and packing (summarization, cinematika).

The reference counted with the Mistral-7B tokenizer at its default settings (one BOS token per
count). ``"approx"`` counts one token per four characters plus the BOS, for machines without the
tokenizer; under ``--sample`` it is used when the named tokenizer is not cached locally.
"""

from __future__ import annotations

import logging
from collections.abc import Callable

from bagel_core import LoadContext

#: The tokenizer the reference counted with.
MISTRAL = "mistralai/Mistral-7B-v0.1"
APPROX = "approx"

log = logging.getLogger(__name__)
#: Tokenizers already said to be missing in this process: one note, not one per source.
_NOTED: set[str] = set()

TokenCounter = Callable[[str], int]


def approx_count(text: str) -> int:
    """About four characters per token, plus one BOS token (as Mistral's counts include)."""
    return (len(text) + 3) // 4 + 1


def token_counter(name: str, ctx: LoadContext) -> TokenCounter:
    """A function counting the tokens of a text with tokenizer ``name`` (or ``"approx"``).

    The tokenizer loads on the first count, so a source whose data is missing reports that first.
    """
    if name == APPROX:
        return approx_count
    counter: list[TokenCounter] = []

    def count(text: str) -> int:
        if not counter:
            counter.append(_load(name, ctx))
        return counter[0](text)

    return count


def _load(name: str, ctx: LoadContext) -> TokenCounter:
    from transformers import AutoTokenizer

    try:
        tokenizer = AutoTokenizer.from_pretrained(name, local_files_only=ctx.sample)
    except OSError as exc:
        if not ctx.sample:
            raise OSError(
                f"tokenizer {name!r} is not available ({exc}); download it once online, or set the "
                f"source's `tokenizer` option to a local path or to {APPROX!r}"
            ) from exc
        if name not in _NOTED:
            _NOTED.add(name)
            log.warning(
                "tokenizer %s is not cached: the length filters of the samples count tokens approximately (first: %s)",
                name,
                ctx.component,
            )
        return approx_count
    return lambda text: len(tokenizer(text)["input_ids"])
