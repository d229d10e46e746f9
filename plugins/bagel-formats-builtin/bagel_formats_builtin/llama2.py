"""llama-2 chat: ``[INST] <<SYS>> ... <</SYS>> ... [/INST]`` with EOS/BOS between turns."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from bagel_core import Message, Probability, PromptFormat

from .layout import ASSISTANT_SYSTEM_PROMPT, JINJA_SPLIT_SYSTEM, SYSTEM_PROMPT_PROBABILITY, Whitespace, split_system


class Llama2(PromptFormat):
    name = "llama-2"
    description = "llama-2 chat: [INST] <<SYS>>...<</SYS>> ... [/INST], EOS/BOS between turns"
    default_system_prompt = ASSISTANT_SYSTEM_PROMPT

    @dataclass
    class Options(PromptFormat.Options):
        system_prompt_probability: Probability = SYSTEM_PROMPT_PROBABILITY
        #: ``reference``: earlier answers and every user message after the first stripped; the
        #: system prompt, the first user message and the trained answer as given (the reference).
        whitespace: Whitespace = "keep"

    options: Options

    def render(self, messages: Sequence[Message]) -> str:
        strip = self.options.whitespace == "reference"
        system, turns = split_system(messages)
        # No leading BOS: the tokenizer adds its own.
        parts = ["[INST] "]
        if system:
            parts.append(f"<<SYS>>\n{system}\n<</SYS>>\n\n")
        for index, message in enumerate(turns):
            if message["role"] == "user":
                text = message["content"].strip() if strip and index else message["content"]
                parts.append(f"{text} [/INST]")
            else:
                text = message["content"].strip() if strip else message["content"]
                parts.append(f" {text} {self.special.eos}{self.special.bos}[INST] ")
        return "".join(parts)

    def chat_template(self) -> str:
        strip = self.options.whitespace == "reference"
        user = "(message['content'] if loop.first else message['content'].strip())" if strip else "message['content']"
        answer = "message['content'].strip()" if strip else "message['content']"
        return (
            JINJA_SPLIT_SYSTEM
            + "{{ '[INST] ' }}"
            + "{%- if system -%}{{ '<<SYS>>\\n' + system + '\\n<</SYS>>\\n\\n' }}{%- endif -%}"
            + "{%- for message in turns -%}"
            + "{%- if message['role'] == 'user' -%}{{ "
            + user
            + " + ' [/INST]' }}"
            + "{%- else -%}{{ ' ' }}{%- generation -%}{{ "
            + answer
            + " + ' ' + eos_token }}{%- endgeneration -%}{{ bos_token + '[INST] ' }}{%- endif -%}"
            + "{%- endfor -%}"
        )
