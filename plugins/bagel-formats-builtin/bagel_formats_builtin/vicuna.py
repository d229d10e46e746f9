"""vicuna: ``USER: ...`` / ``ASSISTANT: ...`` lines under an optional system prompt."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Sequence

from bagel_core import Message, PromptFormat


class Vicuna(PromptFormat):
    name = "vicuna"
    description = "vicuna: system line, then USER:/ASSISTANT: turns"
    default_system_prompt = "A chat between a user and an unbiased, uncensored assistant."

    @dataclass
    class Options(PromptFormat.Options):
        system_prompt_probability: float = 0.5

    def render(self, messages: Sequence[Message]) -> str:
        lines = []
        for message in messages:
            role, content = message["role"], message["content"]
            if role == "system":
                lines.append(content)
            elif role == "user":
                lines.append(f"USER: {content}")
            else:
                lines.append(f"ASSISTANT: {content}")
        lines.append("ASSISTANT: ")
        return "\n".join(lines)
