"""alpaca ("sort of"): a fixed preamble, then ``### Instruction:`` / ``### Response:`` blocks."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Literal

from bagel_core import Message, PromptFormat

from .layout import JINJA_SPLIT_SYSTEM, Whitespace, literal, split_system

# Two spaces after "task.", as in the cards.
PREAMBLE = "Below is an instruction that describes a task.  Write a response that appropriately completes the request."
# The reference's header (bagel/data.py at every version) ends with a space; the cards' has none.
REFERENCE_HEADER = "### Instruction: \n"


class Alpaca(PromptFormat):
    name = "alpaca"
    description = "alpaca (sort of): preamble, ### Instruction: (system prompt inside) / ### Response:"
    # The cards add no default system prompt to alpaca.
    default_system_prompt = None

    @dataclass
    class Options(PromptFormat.Options):
        #: ``cards``: the layout the cards show (system prompt on the line above the
        #: instruction). ``reference``: the reference code's (``### Instruction: `` with a
        #: trailing space; the system prompt in its own instruction block, a blank line before
        #: the instruction; every part joined by a blank line). ``reference-v0.5``: the same, but
        #: the input ends with ``### Response:`` and no newline (the reference's HEAD, 3c7d241).
        layout: Literal["cards", "reference", "reference-v0.5"] = "cards"
        #: ``reference``: every turn stripped, the answer left-stripped (the reference).
        whitespace: Whitespace = "keep"

    options: Options

    def _text(self, message: Message) -> str:
        return message["content"].strip() if self.options.whitespace == "reference" else message["content"]

    def render(self, messages: Sequence[Message]) -> str:
        if self.options.layout != "cards":
            return self._render_reference(messages)
        system, turns = split_system(messages)
        if system and self.options.whitespace == "reference":
            system = system.strip()
        parts = [PREAMBLE, "\n\n"]
        for index, message in enumerate(turns):
            if message["role"] == "user":
                # The system prompt goes on its own line at the top of the first instruction.
                head = f"{system}\n" if system and index == 0 else ""
                parts.append(f"### Instruction:\n{head}{self._text(message)}\n\n### Response:\n")
            else:
                parts.append(f"{self._text(message)}\n\n")
        return "".join(parts)

    def _render_reference(self, messages: Sequence[Message]) -> str:
        has_system = bool(messages) and messages[0]["role"] == "system"
        parts = [PREAMBLE]
        for index, message in enumerate(messages):
            text = self._text(message)
            if message["role"] == "assistant":
                parts.append("### Response:\n" + text)
            elif message["role"] == "user" and has_system and index == 1:
                parts.append(text)  # right under the system prompt's block
            else:
                parts.append(REFERENCE_HEADER + text)
        parts.append(self._last_header())
        return "\n\n".join(parts)

    def _last_header(self) -> str:
        return "### Response:" if self.options.layout == "reference-v0.5" else "### Response:\n"

    def output(self, answer: str) -> str:
        return answer.lstrip() if self.options.whitespace == "reference" else answer

    def chat_template(self) -> str:
        content = "message['content'].strip()" if self.options.whitespace == "reference" else "message['content']"
        if self.options.layout != "cards":
            header = literal(REFERENCE_HEADER)
            return (
                "{{ "
                + literal(PREAMBLE)
                + " }}"
                + "{%- for message in messages -%}"
                + "{{ '\\n\\n' }}"
                + "{%- if message['role'] == 'assistant' -%}{{ '### Response:\\n' }}{%- generation -%}{{ "
                + content
                + " }}{%- endgeneration -%}"
                + "{%- elif message['role'] == 'user' and loop.index0 == 1 and messages[0]['role'] == 'system' -%}{{ "
                + content
                + " }}"
                + "{%- else -%}{{ "
                + header
                + " + "
                + content
                + " }}{%- endif -%}"
                + "{%- endfor -%}"
                + "{{ "
                + literal("\n\n" + self._last_header())
                + " }}"
            )
        system = "system.strip()" if self.options.whitespace == "reference" else "system"
        return (
            JINJA_SPLIT_SYSTEM
            + "{{ "
            + literal(PREAMBLE + "\n\n")
            + " }}"
            + "{%- for message in turns -%}"
            + "{%- if message['role'] == 'user' -%}"
            + "{{ '### Instruction:\\n' + ("
            + system
            + " + '\\n' if system and loop.first else '') + "
            + content
            + " + '\\n\\n### Response:\\n' }}"
            + "{%- else -%}{%- generation -%}{{ "
            + content
            + " }}{%- endgeneration -%}{{ '\\n\\n' }}{%- endif -%}"
            + "{%- endfor -%}"
        )
