"""vicuna: an optional system line, then ``USER:`` / ``ASSISTANT:`` lines."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Sequence

from bagel_core import Message, PromptFormat

from .layout import SYSTEM_PROMPT_PROBABILITY

_PREFIX = {"system": "", "user": "USER: ", "assistant": "ASSISTANT: "}


class Vicuna(PromptFormat):
    name = "vicuna"
    description = "vicuna: system line, then USER:/ASSISTANT: turns"
    default_system_prompt = "A chat between a user and an unbiased, uncensored assistant."

    @dataclass
    class Options(PromptFormat.Options):
        system_prompt_probability: float = SYSTEM_PROMPT_PROBABILITY

    def render(self, messages: Sequence[Message]) -> str:
        lines = [_PREFIX[m["role"]] + m["content"] for m in messages]
        lines.append("ASSISTANT: ")  # one trailing space, as vicuna's own template
        return "\n".join(lines)

    def chat_template(self) -> str:
        return (
            "{%- for message in messages -%}"
            "{%- if not loop.first -%}{{ '\\n' }}{%- endif -%}"
            "{%- if message['role'] == 'user' -%}{{ 'USER: ' }}"
            "{%- elif message['role'] == 'assistant' -%}{{ 'ASSISTANT: ' }}{%- endif -%}"
            "{{ message['content'] }}"
            "{%- endfor -%}"
            "{%- if add_generation_prompt -%}{{ ('\\n' if messages else '') + 'ASSISTANT: ' }}{%- endif -%}"
        )
