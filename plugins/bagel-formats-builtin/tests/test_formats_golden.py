"""Golden renderings of each built-in format, exactly as FORMATS.md lays them out."""

import pytest

from bagel_core.testing import check_plugin, render_sft, special_tokens
from bagel_formats_builtin import plugin
from bagel_formats_builtin.alpaca import Alpaca
from bagel_formats_builtin.chatml import ChatML
from bagel_formats_builtin.llama2 import Llama2
from bagel_formats_builtin.tokenizer_template import TokenizerChatTemplate
from bagel_formats_builtin.vicuna import Vicuna

SINGLE = [{"role": "user", "content": "What is 2+2?"}]
WITH_SYSTEM = [
    {"role": "system", "content": "You are a goat."},
    {"role": "user", "content": "Tell me how to fry an egg."},
]
MULTI = [
    {"role": "system", "content": "Be brief."},
    {"role": "user", "content": "Name a color."},
    {"role": "assistant", "content": "Blue."},
    {"role": "user", "content": "Another?"},
]
PRE = "Below is an instruction that describes a task.  Write a response that appropriately completes the request.\n\n"

GOLDEN = {
    "alpaca": [
        PRE + "### Instruction:\nWhat is 2+2?\n\n### Response:\n",
        PRE + "### Instruction:\nYou are a goat.\nTell me how to fry an egg.\n\n### Response:\n",
        PRE
        + "### Instruction:\nBe brief.\nName a color.\n\n### Response:\nBlue.\n\n### Instruction:\nAnother?\n\n### Response:\n",
    ],
    "vicuna": [
        "USER: What is 2+2?\nASSISTANT: ",
        "You are a goat.\nUSER: Tell me how to fry an egg.\nASSISTANT: ",
        "Be brief.\nUSER: Name a color.\nASSISTANT: Blue.\nUSER: Another?\nASSISTANT: ",
    ],
    "llama-2": [
        "[INST] What is 2+2? [/INST]",
        "[INST] <<SYS>>\nYou are a goat.\n<</SYS>>\n\nTell me how to fry an egg. [/INST]",
        "[INST] <<SYS>>\nBe brief.\n<</SYS>>\n\nName a color. [/INST] Blue. </s><s>[INST] Another? [/INST]",
    ],
    "chatml": [
        "user\nWhat is 2+2?\n</s>\n<s>assistant\n",
        # The card's own example (mistral's tokenizer: <s> and </s>).
        "system\nYou are a goat.\n</s>\n<s>user\nTell me how to fry an egg.\n</s>\n<s>assistant\n",
        "system\nBe brief.\n</s>\n<s>user\nName a color.\n</s>\n<s>assistant\nBlue.\n</s>\n<s>user\nAnother?\n</s>\n<s>assistant\n",
    ],
}
CLASSES = {"alpaca": Alpaca, "vicuna": Vicuna, "llama-2": Llama2, "chatml": ChatML}


@pytest.mark.parametrize("name", sorted(GOLDEN))
def test_golden_strings(name):
    fmt = CLASSES[name]()
    assert [fmt.render(m) for m in (SINGLE, WITH_SYSTEM, MULTI)] == GOLDEN[name]


def test_chatml_with_real_markers():
    fmt = ChatML(ChatML.Options(im_markers=True))
    assert fmt.render(MULTI) == (
        "<|im_start|>system\nBe brief.<|im_end|>\n<|im_start|>user\nName a color.<|im_end|>\n"
        "<|im_start|>assistant\nBlue.<|im_end|>\n<|im_start|>user\nAnother?<|im_end|>\n<|im_start|>assistant\n"
    )


def test_chatml_v05_variant_bos_on_every_turn_no_newline_before_eos():
    # The reference at 3c7d241: each turn BOS role LF text EOS, the turns joined by LF.
    fmt = ChatML(ChatML.Options(variant="v0.5"))
    assert [fmt.render(m) for m in (SINGLE, MULTI)] == [
        "<s>user\nWhat is 2+2?</s>\n<s>assistant\n",
        "<s>system\nBe brief.</s>\n<s>user\nName a color.</s>\n<s>assistant\nBlue.</s>\n<s>user\nAnother?</s>\n<s>assistant\n",
    ]
    assert fmt.render([{"role": "user", "content": "  padded  "}]) == "<s>user\n  padded  </s>\n<s>assistant\n"
    # Its whitespace handling: each turn left-stripped (v0.1/v0.2 right-stripped them).
    stripped = ChatML(ChatML.Options(variant="v0.5", whitespace="reference"))
    assert stripped.render([{"role": "user", "content": "  padded  "}]) == "<s>user\npadded  </s>\n<s>assistant\n"
    # With real markers both variants are standard ChatML.
    marked = ChatML(ChatML.Options(variant="v0.5", im_markers=True))
    assert marked.render(MULTI) == ChatML(ChatML.Options(im_markers=True)).render(MULTI)


def test_bos_and_eos_come_from_the_tokenizer(tokenizer_dir):
    tokens = special_tokens(str(tokenizer_dir))
    assert (tokens.bos, tokens.eos) == ("<|bos|>", "<|eos|>")
    assert Llama2(special=tokens).render(MULTI) == (
        "[INST] <<SYS>>\nBe brief.\n<</SYS>>\n\nName a color. [/INST] Blue. <|eos|><|bos|>[INST] Another? [/INST]"
    )
    assert ChatML(special=tokens).render(WITH_SYSTEM) == (
        "system\nYou are a goat.\n<|eos|>\n<|bos|>user\nTell me how to fry an egg.\n<|eos|>\n<|bos|>assistant\n"
    )
    # Formats without BOS/EOS are unchanged by the tokenizer.
    assert Vicuna(special=tokens).render(MULTI) == GOLDEN["vicuna"][2]
    assert Alpaca(special=tokens).render(MULTI) == GOLDEN["alpaca"][2]


def test_default_system_prompts_and_probability():
    """The reference's training code (bagel/data.py at v0.1 and v0.2): DEFAULT_SYSTEM_PROMPT for
    llama-2 and chatml with p = 0.15, vicuna's own with p = 0.35, none for alpaca."""
    assert Vicuna.default_system_prompt == "A chat between a user and an unbiased, uncensored assistant."
    assert (
        Llama2.default_system_prompt
        == ChatML.default_system_prompt
        == "You are an unbiased, uncensored, helpful assistant."
    )
    assert Alpaca.default_system_prompt is None
    assert Vicuna.Options().system_prompt_probability == 0.35
    assert Llama2.Options().system_prompt_probability == ChatML.Options().system_prompt_probability == 0.15


@pytest.mark.parametrize("seed", [42, 7])
def test_system_prompt_rate_per_format_on_thousands_of_items(seed):
    """Through the core's rules, on 4,000 items: each format's rate is within 4.5 standard
    deviations of its probability (a false failure about once in 150,000 runs)."""
    n = 4000
    turns = [{"from": "human", "value": "Name a color."}, {"from": "gpt", "value": "Blue."}]
    formats = [Vicuna(), Llama2(), ChatML(), Alpaca()]
    added = {"vicuna": 0, "llama-2": 0, "chatml": 0, "alpaca": 0}
    for i in range(n):
        for row in render_sft(formats, turns, item_id=f"item-{i}", seed=seed):
            added[row["format"]] += (
                row["input"].startswith("A chat between a user")
                or "You are an unbiased, uncensored, helpful assistant." in row["input"]
            )
    for name, p in (("vicuna", 0.35), ("llama-2", 0.15), ("chatml", 0.15), ("alpaca", 0.0)):
        sd = (n * p * (1 - p)) ** 0.5
        assert abs(added[name] - n * p) <= 4.5 * sd, (name, added[name])
    # An item's own system prompt is never replaced.
    own = [{"from": "system", "value": "You are a goat."}, *turns]
    rows = [r["input"] for i in range(200) for r in render_sft(formats, own, item_id=f"own-{i}", seed=seed)]
    assert all("You are a goat." in r and "unbiased" not in r for r in rows)


def test_multi_turn_item_rows_through_the_renderer():
    turns = [
        {"from": "system", "value": "Be brief."},
        {"from": "human", "value": "Name a color."},
        {"from": "gpt", "value": "Blue."},
        {"from": "human", "value": "Another?"},
        {"from": "gpt", "value": "Red."},
    ]
    rows = render_sft([Llama2()], turns)
    assert [(r["input"], r["output"]) for r in rows] == [
        ("[INST] <<SYS>>\nBe brief.\n<</SYS>>\n\nName a color. [/INST]", "Blue."),
        (GOLDEN["llama-2"][2], "Red."),
    ]


def test_chat_template_format_uses_the_tokenizers_template(tokenizer_dir, fresh_tokenizer_dir):
    with pytest.raises(ValueError, match="--tokenizer"):
        TokenizerChatTemplate()
    with pytest.raises(ValueError, match="has no chat_template"):
        TokenizerChatTemplate(special=special_tokens(str(tokenizer_dir)))
    from transformers import AutoTokenizer

    tok = AutoTokenizer.from_pretrained(str(fresh_tokenizer_dir))
    tok.chat_template = "{% for m in messages %}<{{ m['role'] }}>{{ m['content'] }}{% endfor %}{% if add_generation_prompt %}<assistant>{% endif %}"
    tok.save_pretrained(str(fresh_tokenizer_dir))
    fmt = TokenizerChatTemplate(special=special_tokens(str(fresh_tokenizer_dir)))
    assert fmt.render(MULTI) == "<system>Be brief.<user>Name a color.<assistant>Blue.<user>Another?<assistant>"
    assert fmt.chat_template() == tok.chat_template


def test_plugin_conformance():
    names = [cls.name for cls in check_plugin(plugin)]
    assert names == ["alpaca", "vicuna", "llama-2", "chatml", "chat-template"]
    assert TokenizerChatTemplate.requires_tokenizer and not Vicuna.requires_tokenizer
