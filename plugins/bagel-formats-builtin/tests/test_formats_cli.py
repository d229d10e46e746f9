"""``bagel chat-template`` and ``bagel preview``."""

import subprocess
import sys

from bagel_core.testing import invoke_cli, special_tokens
from bagel_formats_builtin.chatml import ChatML
from bagel_formats_builtin.llama2 import Llama2

CONVERSATION = [
    {"role": "system", "content": "Be brief."},
    {"role": "user", "content": "Name a color."},
    {"role": "assistant", "content": "Blue."},
    {"role": "user", "content": "Another?"},
]


def invoke(*args):
    return invoke_cli(*args, catch_exceptions=False)


def test_chat_template_prints_the_template():
    result = invoke("chat-template", "llama-2")
    assert result.exit_code == 0
    assert result.output == Llama2().chat_template() + "\n"
    markers = invoke("chat-template", "chatml", "--option", "im_markers=true")
    assert markers.output == ChatML(ChatML.Options(im_markers=True)).chat_template() + "\n"
    assert "<|im_start|>" in markers.output


def test_chat_template_into_a_tokenizer(fresh_tokenizer_dir):
    from transformers import AutoTokenizer

    result = invoke("chat-template", "llama-2", "--into", str(fresh_tokenizer_dir))
    assert result.exit_code == 0, result.output
    tok = AutoTokenizer.from_pretrained(str(fresh_tokenizer_dir))
    fmt = Llama2(special=special_tokens(str(fresh_tokenizer_dir)))
    assert tok.chat_template == fmt.chat_template()
    rendered = tok.apply_chat_template(CONVERSATION, tokenize=False, add_generation_prompt=True)
    assert rendered == fmt.render(CONVERSATION)
    assert (
        rendered
        == "[INST] <<SYS>>\nBe brief.\n<</SYS>>\n\nName a color. [/INST] Blue. <|eos|><|bos|>[INST] Another? [/INST]"
    )


def test_chat_template_errors(tokenizer_dir, tmp_path):
    not_a_tokenizer = invoke("chat-template", "vicuna", "--into", str(tmp_path))
    assert not_a_tokenizer.exit_code != 0 and not_a_tokenizer.output.startswith("Error:")
    unknown = invoke("chat-template", "nope")
    assert unknown.exit_code != 0 and "unknown format 'nope'" in unknown.output and "vicuna" in unknown.output
    needs = invoke("chat-template", "chat-template")
    assert needs.exit_code != 0 and "--tokenizer" in needs.output
    no_template = invoke("chat-template", "chat-template", "--tokenizer", str(tokenizer_dir))
    assert no_template.exit_code != 0 and "has no chat_template" in no_template.output
    bad_option = invoke("chat-template", "chatml", "--option", "colour=blue")
    assert bad_option.exit_code != 0 and "unknown option(s) ['colour']" in bad_option.output
    malformed = invoke("chat-template", "chatml", "--option", "im_markers")
    assert malformed.exit_code != 0 and "KEY=VALUE" in malformed.output


def test_preview_renders_the_first_items_of_a_source():
    result = invoke("preview", "--format", "vicuna", "--source", "airoboros", "--sample", "-n", "3")
    assert result.exit_code == 0, result.output
    # stdout only: stderr has datasets' progress bars when this test's fresh cache is filled.
    assert result.stdout.startswith(
        "=== airoboros_general 82ef4726-b7f9-5b5d-8f3c-077ef5dfa749 [vicuna]\n"
        "--- input\n"
        # vicuna's default system prompt comes with p = 0.35 (the reference's): not for this item.
        "USER: What is the capital of France?\n"
        "ASSISTANT: \n"
        "--- output\n"
        "The capital of France is Paris.\n\n"
    )
    # Three items; the multi-turn one gives a row per assistant turn.
    assert result.stdout.count("=== ") == 4
    assert (
        "USER: Now make it handle None.\nASSISTANT: \n--- output\ndef reverse(s):\n    if s is None:" in result.output
    )
    one = invoke("preview", "--format", "llama-2", "--source", "airoboros", "--sample", "-n", "1")
    assert one.output.count("=== ") == 1 and "What is the capital of France? [/INST]\n" in one.output


def test_preview_in_the_references_strings():
    """The v0.1/v0.2 recipes' rendering: alpaca's reference layout, stripping, no newline rule."""
    result = invoke(
        "preview",
        "--format",
        "alpaca",
        "--source",
        "airoboros",
        "--sample",
        "-n",
        "1",
        "-o",
        "layout=reference",
        "-o",
        "whitespace=reference",
        "--newlines",
        "none",
    )
    assert result.exit_code == 0, result.output
    assert (
        "--- input\nBelow is an instruction that describes a task.  Write a response that appropriately completes the request.\n\n### Instruction: \n"
        in result.stdout
    )
    bad = invoke("preview", "--format", "alpaca", "--source", "airoboros", "--sample", "--newlines", "nope")
    assert bad.exit_code != 0 and "nope" in bad.output


def test_preview_of_dpo_pairs_and_errors():
    result = invoke("preview", "--format", "alpaca", "--source", "helpsteer", "--sample", "-n", "1")
    assert result.exit_code == 0, result.output
    assert "[alpaca, dpo]\n--- prompt\nBelow is an instruction" in result.output
    assert "--- chosen\n" in result.output and "--- rejected\n" in result.output
    unknown = invoke("preview", "--format", "vicuna", "--source", "nope", "--sample")
    assert unknown.exit_code != 0 and "unknown source 'nope'" in unknown.output


def _heavy_modules_after(*argv: str) -> str:
    code = (
        f"import sys; sys.argv = ['bagel', *{list(argv)!r}]\n"
        "import runpy\n"
        "try:\n    runpy.run_module('bagel_core', run_name='__main__')\nexcept SystemExit:\n    pass\n"
        "print(sorted(m for m in ('torch', 'transformers') if m in sys.modules))"
    )
    return subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout


def test_light_commands_import_no_heavy_library():
    out = _heavy_modules_after("--help")
    assert "chat-template" in out and "preview" in out and out.strip().endswith("[]")
    out = _heavy_modules_after("list-plugins")
    assert "chat-template" in out and out.strip().endswith("[]")
