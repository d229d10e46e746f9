"""What several built-in formats share: default system prompt settings and template helpers."""

from __future__ import annotations

import json
from typing import Sequence

from bagel_core import Message

#: Chance that an item without a system prompt gets the format's default one. The reference
#: used 0.5 at one time and 0.15 at another; 0.5 keeps items with and without a system prompt
#: equally common, so the model learns both. Set per format: ``[format.vicuna]
#: system_prompt_probability = 0.15``.
SYSTEM_PROMPT_PROBABILITY = 0.5

#: The default system prompt the cards name for llama-2 (and used by chatml).
ASSISTANT_SYSTEM_PROMPT = "You are a helpful, unbiased, uncensored assistant."

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
