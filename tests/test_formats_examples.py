"""docs/formats.md shows a function-calling item (glaive_func) and a contextual (RAG) pair
(contextual-dpo) rendered in every built-in format; each shown text is what bagel renders."""

import re
from pathlib import Path

from bagel_core.testing import load_sample, render_dpo, render_sft
from bagel_dpo_builtin.contextual_dpo import ContextualDPO
from bagel_formats_builtin.alpaca import Alpaca
from bagel_formats_builtin.chatml import ChatML
from bagel_formats_builtin.llama2 import Llama2
from bagel_formats_builtin.vicuna import Vicuna
from bagel_sources_builtin.glaive_func import GlaiveFunc

DOC = Path(__file__).resolve().parents[1] / "docs" / "formats.md"
# The default system prompt coin is off, so each example is one fixed text.
FORMATS = {
    "alpaca": Alpaca(Alpaca.Options(system_prompt_probability=0.0)),
    "vicuna": Vicuna(Vicuna.Options(system_prompt_probability=0.0)),
    "llama-2": Llama2(Llama2.Options(system_prompt_probability=0.0)),
    "chatml": ChatML(ChatML.Options(system_prompt_probability=0.0)),
    "chatml-v0.5": ChatML(ChatML.Options(system_prompt_probability=0.0, variant="v0.5")),
}
_BLOCK = re.compile(r"<!-- example: (\S+) (\S+) -->\n```text\n(.*?)\n```", re.S)


def rendered() -> dict[tuple[str, str], str]:
    """``(example, format) -> text`` of both examples in every format."""
    call = load_sample(GlaiveFunc)[0][0]
    pair = load_sample(ContextualDPO)[0][0]
    texts = {}
    for name, fmt in FORMATS.items():
        rows = render_sft([fmt], call["conversations"], item_id=call["id"])
        # The row of the answer after the function's result: the call is in its input.
        given, answer = rows[1]["input"], rows[1]["output"]
        assert answer == "One US dollar is worth 0.92 euros today."
        texts["function-call", name] = given
        (row,) = render_dpo([fmt], pair["prompt"], pair["chosen"], pair["rejected"], item_id=pair["id"])
        texts["contextual", name] = row["prompt"]
    return texts


def test_function_call_keeps_its_markers_in_every_format():
    for (example, name), text in rendered().items():
        if example == "function-call":
            assert "<|begin_func|>" in text and "<|end_func|>" in text, name
            assert "<|begin_func_response|>" in text and text.count("How many euros") == 1, name
        else:
            assert "BEGININPUT" in text and "ENDINSTRUCTION" in text, name


def test_docs_show_each_rendering_exactly():
    shown = {(example, name): text for example, name, text in _BLOCK.findall(DOC.read_text())}
    expected = rendered()
    assert set(shown) == set(expected), "docs/formats.md lacks (or has extra) example blocks"
    for key, text in expected.items():
        # A rendering ending with a newline or space is shown with ⏎ / ␣ at the end.
        shown_text = shown[key].replace("⏎", "").replace("␣", " ")
        assert shown_text == text.rstrip("\n") if shown[key].endswith("⏎") else shown_text == text, key
