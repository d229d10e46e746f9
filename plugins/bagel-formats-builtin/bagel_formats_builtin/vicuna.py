"""vicuna: an optional system line, then ``USER:`` / ``ASSISTANT:`` lines."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from bagel_core import Message, Probability, PromptFormat

from .layout import VICUNA_SYSTEM_PROMPT_PROBABILITY, Whitespace

_PREFIX = {"system": "", "user": "USER: ", "assistant": "ASSISTANT: "}


class Vicuna(PromptFormat):
    name = "vicuna"
    description = "vicuna: system line, then USER:/ASSISTANT: turns"
    default_system_prompt = "A chat between a user and an unbiased, uncensored assistant."

    @dataclass
    class Options(PromptFormat.Options):
        system_prompt_probability: Probability = VICUNA_SYSTEM_PROMPT_PROBABILITY
        #: ``reference``: every turn stripped, the answer left-stripped (the reference).
        whitespace: Whitespace = "keep"

    options: Options

    def _strip(self) -> bool:
        return self.options.whitespace == "reference"

    def render(self, messages: Sequence[Message]) -> str:
        strip = self._strip()
        lines = [_PREFIX[m["role"]] + (m["content"].strip() if strip else m["content"]) for m in messages]
        lines.append("ASSISTANT: ")  # one trailing space, as vicuna's own template
        return "\n".join(lines)

    def output(self, answer: str) -> str:
        return answer.lstrip() if self._strip() else answer

    def chat_template(self) -> str:
        content = "message['content'].strip()" if self._strip() else "message['content']"
        return (
            "{%- for message in messages -%}"
            "{%- if not loop.first -%}{{ '\\n' }}{%- endif -%}"
            "{%- if message['role'] == 'assistant' -%}"
            "{{ 'ASSISTANT: ' }}{%- generation -%}{{ " + content + " }}{%- endgeneration -%}"
            "{%- else -%}{%- if message['role'] == 'user' -%}{{ 'USER: ' }}{%- endif -%}{{ "
            + content
            + " }}{%- endif -%}"
            "{%- endfor -%}"
            "{%- if add_generation_prompt -%}{{ ('\\n' if messages else '') + 'ASSISTANT: ' }}{%- endif -%}"
        )
