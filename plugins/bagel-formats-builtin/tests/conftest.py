"""Fixtures of the built-in formats' tests: a real tokenizer, trained locally (no Hub)."""

import os
from pathlib import Path

import pytest

os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("HF_DATASETS_OFFLINE", "1")
os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")

BOS, EOS = "<|bos|>", "<|eos|>"
_TEXT = [
    "Below is an instruction that describes a task. Write a response that appropriately completes the request.",
    "USER: What is the capital of France? ASSISTANT: The capital of France is Paris.",
    "[INST] <<SYS>> You are a helpful, unbiased, uncensored assistant. <</SYS>> Hello [/INST]",
    "system user assistant Tell me how to fry an egg. You are a goat.",
]


def build_tokenizer(folder: Path, chat_template: str = None) -> Path:
    """A tiny byte-level BPE tokenizer with BOS/EOS, saved as a transformers tokenizer."""
    from tokenizers import Tokenizer, decoders, models, pre_tokenizers, trainers
    from transformers import PreTrainedTokenizerFast

    core = Tokenizer(models.BPE())
    core.pre_tokenizer = pre_tokenizers.ByteLevel(add_prefix_space=False)
    core.decoder = decoders.ByteLevel()
    trainer = trainers.BpeTrainer(
        vocab_size=400, special_tokens=[BOS, EOS], initial_alphabet=pre_tokenizers.ByteLevel.alphabet()
    )
    core.train_from_iterator(_TEXT * 5, trainer)
    tok = PreTrainedTokenizerFast(tokenizer_object=core, bos_token=BOS, eos_token=EOS)
    if chat_template:
        tok.chat_template = chat_template
    tok.save_pretrained(str(folder))
    return folder


@pytest.fixture(scope="session")
def tokenizer_dir(tmp_path_factory) -> Path:
    """A saved tokenizer without a chat template; BOS ``<|bos|>``, EOS ``<|eos|>``."""
    return build_tokenizer(tmp_path_factory.mktemp("tokenizer"))


@pytest.fixture(scope="session")
def tokenizer(tokenizer_dir):
    from transformers import AutoTokenizer

    return AutoTokenizer.from_pretrained(str(tokenizer_dir))


@pytest.fixture
def fresh_tokenizer_dir(tokenizer_dir, tmp_path) -> Path:
    """A writable copy of ``tokenizer_dir``."""
    import shutil

    return Path(shutil.copytree(tokenizer_dir, tmp_path / "tok"))
