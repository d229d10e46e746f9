"""Each format's chat template reproduces its rendering through a real tokenizer."""

import random

import pytest

from bagel_core.testing import special_tokens
from bagel_formats_builtin.alpaca import Alpaca
from bagel_formats_builtin.chatml import ChatML
from bagel_formats_builtin.llama2 import Llama2
from bagel_formats_builtin.vicuna import Vicuna

# Texts that could trip a template: newlines, quotes, backslashes, Jinja syntax, non-ASCII.
TEXTS = [
    "Hello?",
    "Write a haiku about rain.",
    "line one\nline two\n\nline four",
    "She said \"hi\" and 'bye'.",
    "C:\\path\\to\\file",
    "{{ not a variable }} {% raw %}",
    "Ünïcödé — 漢字 😀",
    "  padded  ",
    "[INST] <<SYS>>",
    "ASSISTANT: fake",
    "def f():\n    return {'a': 1}\n",
]


def conversations(count: int, seed: int = 0) -> list[list[dict]]:
    """Conversations ending with a user message: with and without system, 1 to 4 user turns."""
    rnd = random.Random(seed)
    convs = []
    for i in range(count):
        messages = [{"role": "system", "content": rnd.choice(TEXTS)}] if i % 2 else []
        for turn in range(1 + i % 4):
            if turn:
                messages.append({"role": "assistant", "content": rnd.choice(TEXTS)})
            messages.append({"role": "user", "content": rnd.choice(TEXTS)})
        convs.append(messages)
    return convs


CASES = [
    pytest.param(Alpaca, None, id="alpaca"),
    pytest.param(Vicuna, None, id="vicuna"),
    pytest.param(Llama2, None, id="llama-2"),
    pytest.param(ChatML, None, id="chatml"),
    pytest.param(ChatML, ChatML.Options(im_markers=True), id="chatml-im-markers"),
    pytest.param(ChatML, ChatML.Options(variant="v0.5"), id="chatml-v0.5"),
    pytest.param(ChatML, ChatML.Options(variant="v0.5", whitespace="reference"), id="chatml-v0.5-reference"),
    pytest.param(Alpaca, Alpaca.Options(layout="reference-v0.5", whitespace="reference"), id="alpaca-reference-v0.5"),
    # The reference's strings (recipes/bagel-v0.1.toml, bagel-v0.2.toml).
    pytest.param(Alpaca, Alpaca.Options(layout="reference", whitespace="reference"), id="alpaca-reference"),
    pytest.param(Alpaca, Alpaca.Options(whitespace="reference"), id="alpaca-cards-stripped"),
    pytest.param(Alpaca, Alpaca.Options(layout="reference"), id="alpaca-reference-layout"),
    pytest.param(Vicuna, Vicuna.Options(whitespace="reference"), id="vicuna-reference"),
    pytest.param(Llama2, Llama2.Options(whitespace="reference"), id="llama-2-reference"),
    pytest.param(ChatML, ChatML.Options(whitespace="reference"), id="chatml-reference"),
]


@pytest.mark.parametrize("cls, options", CASES)
def test_apply_chat_template_equals_render(cls, options, tokenizer, tokenizer_dir):
    fmt = cls(options, special_tokens(str(tokenizer_dir)))
    tokenizer.chat_template = fmt.chat_template()
    convs = conversations(60)
    assert any(len(c) >= 7 for c in convs) and any(c[0]["role"] == "system" for c in convs)
    for messages in convs:
        expected = fmt.render(messages)
        assert tokenizer.apply_chat_template(messages, tokenize=False, add_generation_prompt=True) == expected, messages


@pytest.mark.parametrize("cls, options", CASES)
def test_template_survives_save_and_reload(cls, options, fresh_tokenizer_dir):
    from transformers import AutoTokenizer

    fmt = cls(options, special_tokens(str(fresh_tokenizer_dir)))
    tok = AutoTokenizer.from_pretrained(str(fresh_tokenizer_dir))
    tok.chat_template = fmt.chat_template()
    tok.save_pretrained(str(fresh_tokenizer_dir))
    reloaded = AutoTokenizer.from_pretrained(str(fresh_tokenizer_dir))
    for messages in conversations(12, seed=1):
        assert reloaded.apply_chat_template(messages, tokenize=False, add_generation_prompt=True) == fmt.render(
            messages
        )
