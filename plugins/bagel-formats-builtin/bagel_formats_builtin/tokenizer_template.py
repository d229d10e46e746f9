"""chat-template: render with the ``chat_template`` of the tokenizer given by ``--tokenizer``."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from bagel_core import Message, PromptFormat, SpecialTokens


class TokenizerChatTemplate(PromptFormat):
    name = "chat-template"
    description = "the chat_template of --tokenizer (train in the fine-tuned model's own format)"
    requires_tokenizer = True

    def __init__(self, options: Any | None = None, special: SpecialTokens = SpecialTokens()) -> None:
        super().__init__(options, special)
        if not special.tokenizer_path:
            raise ValueError(
                "format 'chat-template' renders with a tokenizer's own chat template: pass --tokenizer PATH"
            )
        from transformers import AutoTokenizer  # heavy: only when this format is used

        self.tokenizer = AutoTokenizer.from_pretrained(special.tokenizer_path)
        if not self.tokenizer.chat_template:
            raise ValueError(f"format 'chat-template': tokenizer {special.tokenizer_path!r} has no chat_template")

    def render(self, messages: Sequence[Message]) -> str:
        # tokenize=False returns the text; transformers annotates the union of every mode's result.
        return self.tokenizer.apply_chat_template(list(messages), tokenize=False, add_generation_prompt=True)  # type: ignore[return-value]

    def chat_template(self) -> str:
        return self.tokenizer.chat_template
