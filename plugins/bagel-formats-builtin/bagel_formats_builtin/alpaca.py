"""alpaca ("sort of"): a fixed preamble, then ``### Instruction:`` / ``### Response:`` blocks."""

from __future__ import annotations

from typing import Sequence

from bagel_core import Message, PromptFormat

from .layout import JINJA_SPLIT_SYSTEM, literal, split_system

# Two spaces after "task.", as in the cards.
PREAMBLE = "Below is an instruction that describes a task.  Write a response that appropriately completes the request."


class Alpaca(PromptFormat):
    name = "alpaca"
    description = "alpaca (sort of): preamble, ### Instruction: (system prompt inside) / ### Response:"
    # The cards add no default system prompt to alpaca.
    default_system_prompt = None

    def render(self, messages: Sequence[Message]) -> str:
        system, turns = split_system(messages)
        parts = [PREAMBLE, "\n\n"]
        for index, message in enumerate(turns):
            if message["role"] == "user":
                # The system prompt goes on its own line at the top of the first instruction.
                head = f"{system}\n" if system and index == 0 else ""
                parts.append(f"### Instruction:\n{head}{message['content']}\n\n### Response:\n")
            else:
                parts.append(f"{message['content']}\n\n")
        return "".join(parts)

    def chat_template(self) -> str:
        return (
            JINJA_SPLIT_SYSTEM
            + "{{ " + literal(PREAMBLE + "\n\n") + " }}"
            + "{%- for message in turns -%}"
            + "{%- if message['role'] == 'user' -%}"
            + "{{ '### Instruction:\\n' + (system + '\\n' if system and loop.first else '') + message['content'] + '\\n\\n### Response:\\n' }}"
            + "{%- else -%}{{ message['content'] + '\\n\\n' }}{%- endif -%}"
            + "{%- endfor -%}"
        )
