"""chatml ("sort of"): ``role\\ntext\\n`` turns wrapped in BOS/EOS, or real ChatML markers."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Literal

from bagel_core import Message, Probability, PromptFormat

from .layout import ASSISTANT_SYSTEM_PROMPT, SYSTEM_PROMPT_PROBABILITY, Whitespace, literal

IM_START, IM_END = "<|im_start|>", "<|im_end|>"


class ChatML(PromptFormat):
    name = "chatml"
    description = 'chatml (sort of): BOS role / text / EOS turns; variant="v0.5" for the later layout; im_markers=true for real <|im_start|>/<|im_end|>'
    default_system_prompt = ASSISTANT_SYSTEM_PROMPT

    @dataclass
    class Options(PromptFormat.Options):
        system_prompt_probability: Probability = SYSTEM_PROMPT_PROBABILITY
        #: Standard ChatML (``<|im_start|>role\ntext<|im_end|>\n``) instead of BOS/EOS.
        im_markers: bool = False
        #: BOS/EOS layout: "cards" (v0.1/v0.2: no BOS on the first turn, a newline before each
        #: EOS) or "v0.5" (the reference's HEAD: BOS on every turn, no newline before EOS).
        #: With ``im_markers`` both are standard ChatML.
        variant: Literal["cards", "v0.5"] = "cards"
        #: ``reference``: turns stripped as the reference of the variant did (cards: right-
        #: stripped; v0.5: left-stripped), the answer left-stripped.
        whitespace: Whitespace = "keep"
        #: Text appended to every answer trained on; the reference's HEAD appended a literal
        #: ``<|im_end|>`` (before left-stripping it), even with its BOS/EOS layout.
        answer_suffix: str = ""

    options: Options

    def _markers(self) -> tuple[str, str, str]:
        """``(start of the first turn, start of later turns, end of a turn)``."""
        if self.options.im_markers:
            return IM_START, IM_START, IM_END + "\n"
        if self.options.variant == "v0.5":
            return self.special.bos, self.special.bos, self.special.eos + "\n"
        # The first turn carries no BOS: the tokenizer adds its own.
        return "", self.special.bos, "\n" + self.special.eos + "\n"

    def _strip(self) -> str:
        """The ``str`` method the turns are stripped with, or '' for none."""
        if self.options.whitespace != "reference":
            return ""
        return "lstrip" if self.options.variant == "v0.5" else "rstrip"

    def _content(self, message: Message) -> str:
        strip = self._strip()
        return getattr(message["content"], strip)() if strip else message["content"]

    def render(self, messages: Sequence[Message]) -> str:
        first, start, end = self._markers()
        parts = [f"{first if i == 0 else start}{m['role']}\n{self._content(m)}{end}" for i, m in enumerate(messages)]
        parts.append(f"{start if messages else first}assistant\n")
        return "".join(parts)

    def output(self, answer: str) -> str:
        answer += self.options.answer_suffix
        return answer.lstrip() if self.options.whitespace == "reference" else answer

    def chat_template(self) -> str:
        # ``end`` is trained after an answer (inside ``{% generation %}``, for assistant masks), ``rest`` not.
        if self.options.im_markers:
            turn_start = gen_start = literal(IM_START)
            end, rest = literal(IM_END), "'\\n'"
        elif self.options.variant == "v0.5":
            turn_start = gen_start = "bos_token"
            end, rest = "eos_token", "'\\n'"
        else:
            turn_start = "('' if loop.first else bos_token)"
            gen_start = "(bos_token if messages else '')"
            end, rest = "'\\n' + eos_token", "'\\n'"
        content = f"message['content'].{self._strip()}()" if self._strip() else "message['content']"
        return (
            "{%- for message in messages -%}"
            f"{{{{ {turn_start} + message['role'] + '\\n' }}}}"
            f"{{%- if message['role'] == 'assistant' -%}}{{%- generation -%}}{{{{ {content} + {end} }}}}{{%- endgeneration -%}}"
            f"{{%- else -%}}{{{{ {content} + {end} }}}}{{%- endif -%}}{{{{ {rest} }}}}"
            "{%- endfor -%}"
            f"{{%- if add_generation_prompt -%}}{{{{ {gen_start} + 'assistant\\n' }}}}{{%- endif -%}}"
        )
