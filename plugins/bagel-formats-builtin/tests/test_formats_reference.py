"""The reference's exact strings (jondurbin/bagel, bagel/data.py at v0.1 b93633b and v0.2
4cfa4f0), reproduced by the format options the recipes set.

Each expected string was written out by hand from the reference's format functions
(``alpaca_io``, ``vicuna_io``, ``llama2_io``, ``chatml_io``), not produced by bagel.
"""

import tomllib
from pathlib import Path

import pytest

from bagel_core.testing import render_dpo, render_sft
from bagel_formats_builtin.alpaca import Alpaca
from bagel_formats_builtin.chatml import ChatML
from bagel_formats_builtin.llama2 import Llama2
from bagel_formats_builtin.vicuna import Vicuna

RECIPES = Path(__file__).resolve().parents[3] / "recipes"
CLASSES = {"alpaca": Alpaca, "vicuna": Vicuna, "llama-2": Llama2, "chatml": ChatML}
PRE = "Below is an instruction that describes a task.  Write a response that appropriately completes the request."

# Padding whitespace everywhere, so every strip (or its absence) shows.
CONVERSATION = [
    {"from": "system", "value": " Be brief. "},
    {"from": "human", "value": " Name a color.\n"},
    {"from": "gpt", "value": "\nBlue. "},
    {"from": "human", "value": " Another? "},
    {"from": "gpt", "value": "  Red.\n\n\n\nDone."},
]

# (input, output) of the two rows of CONVERSATION, per format.
REFERENCE_ROWS = {
    "alpaca": [
        (PRE + "\n\n### Instruction: \nBe brief.\n\nName a color.\n\n### Response:\n", "Blue. "),
        (
            PRE
            + "\n\n### Instruction: \nBe brief.\n\nName a color.\n\n### Response:\nBlue.\n\n### Instruction: \nAnother?\n\n### Response:\n",
            "Red.\n\n\n\nDone.",
        ),
    ],
    "vicuna": [
        ("Be brief.\nUSER: Name a color.\nASSISTANT: ", "Blue. "),
        ("Be brief.\nUSER: Name a color.\nASSISTANT: Blue.\nUSER: Another?\nASSISTANT: ", "Red.\n\n\n\nDone."),
    ],
    # llama-2 kept the system prompt, the first message and the answer as given.
    "llama-2": [
        ("[INST] <<SYS>>\n Be brief. \n<</SYS>>\n\n Name a color.\n [/INST]", "\nBlue. "),
        (
            "[INST] <<SYS>>\n Be brief. \n<</SYS>>\n\n Name a color.\n [/INST] Blue. </s><s>[INST] Another? [/INST]",
            "  Red.\n\n\n\nDone.",
        ),
    ],
    "chatml": [
        ("system\n Be brief.\n</s>\n<s>user\n Name a color.\n</s>\n<s>assistant\n", "Blue. "),
        (
            "system\n Be brief.\n</s>\n<s>user\n Name a color.\n</s>\n<s>assistant\n\nBlue.\n</s>\n<s>user\n Another?\n</s>\n<s>assistant\n",
            "Red.\n\n\n\nDone.",
        ),
    ],
}

# An item without a system prompt, when the coin adds the format's default.
WITH_DEFAULT = {
    "alpaca": PRE + "\n\n### Instruction: \nWhat is 2+2?\n\n### Response:\n",  # alpaca has none
    "vicuna": "A chat between a user and an unbiased, uncensored assistant.\nUSER: What is 2+2?\nASSISTANT: ",
    "llama-2": "[INST] <<SYS>>\nYou are an unbiased, uncensored, helpful assistant.\n<</SYS>>\n\nWhat is 2+2? [/INST]",
    "chatml": "system\nYou are an unbiased, uncensored, helpful assistant.\n</s>\n<s>user\nWhat is 2+2?\n</s>\n<s>assistant\n",
}

# The same at the reference's HEAD (bagel/data.py at 3c7d241, bagel v0.5): alpaca's input ends
# "### Response:" with no newline; answers (not llama-2's) left-stripped after the blank-line
# rule; chatml with BOS on every turn, EOS right after the left-stripped text, and a literal
# "<|im_end|>" appended to the answer.
REFERENCE_ROWS_V05 = {
    "alpaca": [
        (PRE + "\n\n### Instruction: \nBe brief.\n\nName a color.\n\n### Response:", "Blue. "),
        (
            PRE
            + "\n\n### Instruction: \nBe brief.\n\nName a color.\n\n### Response:\nBlue.\n\n### Instruction: \nAnother?\n\n### Response:",
            "Red.\n\nDone.",
        ),
    ],
    "vicuna": REFERENCE_ROWS["vicuna"][:1] + [(REFERENCE_ROWS["vicuna"][1][0], "Red.\n\nDone.")],
    "llama-2": REFERENCE_ROWS["llama-2"][:1] + [(REFERENCE_ROWS["llama-2"][1][0], "  Red.\n\nDone.")],
    "chatml": [
        ("<s>system\nBe brief. </s>\n<s>user\nName a color.\n</s>\n<s>assistant\n", "Blue. <|im_end|>"),
        (
            "<s>system\nBe brief. </s>\n<s>user\nName a color.\n</s>\n<s>assistant\nBlue. </s>\n<s>user\nAnother? </s>\n<s>assistant\n",
            "Red.\n\nDone.<|im_end|>",
        ),
    ],
}


def recipe_formats(recipe: str, **override) -> list:
    """The four formats with the options of ``recipe``'s ``[format.*]`` tables."""
    tables = tomllib.loads((RECIPES / recipe).read_text()).get("format", {})
    return [cls(cls.Options(**{**tables.get(name, {}), **override})) for name, cls in CLASSES.items()]


@pytest.mark.parametrize("recipe", ["bagel-v0.1.toml", "bagel-v0.2.toml"])
def test_recipe_formats_give_the_references_strings(recipe):
    formats = recipe_formats(recipe)
    rows = render_sft(formats, CONVERSATION, seed=1, newlines="none")  # the recipes' newline rule
    got = {name: [(r["input"], r["output"]) for r in rows if r["format"] == name] for name in CLASSES}
    assert got == REFERENCE_ROWS


@pytest.mark.parametrize("recipe", ["bagel-v0.1.toml", "bagel-v0.2.toml"])
def test_recipe_formats_default_system_prompts(recipe):
    tables = tomllib.loads((RECIPES / recipe).read_text())["format"]
    assert tables["vicuna"]["system_prompt_probability"] == 0.35
    assert tables["llama-2"]["system_prompt_probability"] == tables["chatml"]["system_prompt_probability"] == 0.15
    always = recipe_formats(recipe, system_prompt_probability=1.0)
    turns = [{"from": "human", "value": "What is 2+2?"}, {"from": "gpt", "value": "4"}]
    rows = {r["format"]: r["input"] for r in render_sft(always, turns, item_id="y", seed=1)}
    assert rows == WITH_DEFAULT
    # DPO prompts go through the same functions (the reference rendered [human=prompt, gpt=chosen]).
    dpo = {r["format"]: r["prompt"] for r in render_dpo(always, "What is 2+2?", "4", "5", item_id="z", seed=1)}
    assert dpo == WITH_DEFAULT


def test_default_options_keep_text_as_given():
    """bagel's defaults: no stripping, the cards' alpaca layout; the answer as trained on."""
    formats = [cls() for cls in CLASSES.values()]
    rows = render_sft(formats, CONVERSATION, seed=1, newlines="none")
    outputs = {r["output"] for r in rows}
    assert outputs == {"\nBlue. ", "  Red.\n\n\n\nDone."}
    alpaca = [r["input"] for r in rows if r["format"] == "alpaca"]
    assert alpaca[0] == PRE + "\n\n### Instruction:\n Be brief. \n Name a color.\n\n\n### Response:\n"


def test_v05_recipe_formats_give_the_references_strings():
    formats = recipe_formats("bagel-v0.5.toml")
    rows = render_sft(formats, CONVERSATION, seed=1, newlines="blank-line-runs")  # the recipe's newline rule
    got = {name: [(r["input"], r["output"]) for r in rows if r["format"] == name] for name in CLASSES}
    assert got == REFERENCE_ROWS_V05
    tables = tomllib.loads((RECIPES / "bagel-v0.5.toml").read_text())
    assert tables["run"]["newlines"] == "blank-line-runs"
    # v0.5 drew the default system prompt with p = 0.5 everywhere.
    assert {tables["format"][f]["system_prompt_probability"] for f in ("vicuna", "llama-2", "chatml")} == {0.5}
