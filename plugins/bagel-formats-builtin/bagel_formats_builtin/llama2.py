"""llama-2 chat: ``[INST] <<SYS>> ... <</SYS>> ... [/INST]`` with EOS/BOS between turns."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Sequence

from bagel_core import Message, PromptFormat

from .layout import ASSISTANT_SYSTEM_PROMPT, JINJA_SPLIT_SYSTEM, SYSTEM_PROMPT_PROBABILITY, split_system


class Llama2(PromptFormat):
    name = "llama-2"
    description = "llama-2 chat: [INST] <<SYS>>...<</SYS>> ... [/INST], EOS/BOS between turns"
    default_system_prompt = ASSISTANT_SYSTEM_PROMPT

    @dataclass
    class Options(PromptFormat.Options):
        system_prompt_probability: float = SYSTEM_PROMPT_PROBABILITY

    def render(self, messages: Sequence[Message]) -> str:
        system, turns = split_system(messages)
        # No leading BOS: the tokenizer adds its own.
        parts = ["[INST] "]
        if system:
            parts.append(f"<<SYS>>\n{system}\n<</SYS>>\n\n")
        for message in turns:
            if message["role"] == "user":
                parts.append(f"{message['content']} [/INST]")
            else:
                parts.append(f" {message['content']} {self.special.eos}{self.special.bos}[INST] ")
        return "".join(parts)

    def chat_template(self) -> str:
        return (
            JINJA_SPLIT_SYSTEM
            + "{{ '[INST] ' }}"
            + "{%- if system -%}{{ '<<SYS>>\\n' + system + '\\n<</SYS>>\\n\\n' }}{%- endif -%}"
            + "{%- for message in turns -%}"
            + "{%- if message['role'] == 'user' -%}{{ message['content'] + ' [/INST]' }}"
            + "{%- else -%}{{ ' ' + message['content'] + ' ' + eos_token + bos_token + '[INST] ' }}{%- endif -%}"
            + "{%- endfor -%}"
        )
