"""What several built-in formats share: default system prompt settings and template helpers."""

from __future__ import annotations

import json
from collections.abc import Sequence
from typing import Literal

from bagel_core import Message

#: Chance that an item without a system prompt gets the llama-2 / chatml default one: the
#: reference's training code (bagel/data.py) at v0.1 and v0.2; it used 0.5 from January 2024.
#: Set per format: ``[format.llama-2] system_prompt_probability = 0.5``.
SYSTEM_PROMPT_PROBABILITY = 0.15
#: vicuna's chance, higher in the reference ("Larger probability ... for vicuna") until it too
#: became 0.5 in January 2024.
VICUNA_SYSTEM_PROMPT_PROBABILITY = 0.35

#: The reference's ``DEFAULT_SYSTEM_PROMPT`` for llama-2 and chatml, the same at every version
#: (the cards' "You are a helpful, unbiased, uncensored assistant." is an inference example).
ASSISTANT_SYSTEM_PROMPT = "You are an unbiased, uncensored, helpful assistant."

#: ``keep``: turn texts as given. ``reference``: strip them as the reference's format
#: functions did (each format says how) and left-strip the trained answer (not llama-2's).
Whitespace = Literal["keep", "reference"]

#: Jinja that sets ``system`` (the leading system message's text, or ``''``) and ``turns``
#: (the other messages): the template counterpart of :func:`split_system`.
JINJA_SPLIT_SYSTEM = (
    "{%- if messages and messages[0]['role'] == 'system' -%}"
    "{%- set system = messages[0]['content'] -%}{%- set turns = messages[1:] -%}"
    "{%- else -%}{%- set system = '' -%}{%- set turns = messages -%}{%- endif -%}"
)


def split_system(messages: Sequence[Message]) -> tuple[str, list[Message]]:
    """``(system prompt or '', the other messages)``."""
    if messages and messages[0]["role"] == "system":
        return messages[0]["content"], list(messages[1:])
    return "", list(messages)


def literal(text: str) -> str:
    """``text`` as a Jinja string literal (JSON escapes are valid Jinja escapes)."""
    return json.dumps(text)
