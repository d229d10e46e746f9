"""One-line errors instead of tracebacks, quiet logs by default, and ``--push-to-hub``
checked at huggingface_hub's boundary (no network)."""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pandas as pd
import pytest
from click.testing import CliRunner

from bagel_core.builtin.train import common as train_common
from bagel_core.builtin.train import export as train_export
from bagel_core.builtin.train.sft import SFT
from bagel_core.cli import cli


@pytest.mark.parametrize(
    "flags, message",
    [
        (["--report-to", "wandb"], "--report-to wandb needs the wandb package: pip install wandb"),
        (["--report-to", "none,tensorboard"], "--report-to tensorboard needs the tensorboard package"),
        (
            ["--attn-implementation", "flash_attention_2"],
            "--attn-implementation flash_attention_2 needs the flash_attn package",
        ),
        (["--deepspeed", "zero2"], "--deepspeed runs under a distributed launcher: accelerate launch"),
        (["--model", "/nowhere/model"], "--model /nowhere/model: no such model folder"),
        (["--model", "./missing"], "--model ./missing: no such model folder"),
        (
            ["--lora", "--push-to-hub", "me/x"],
            "the adapter would not load from the Hub; train without --push-to-hub, then: bagel train merge",
        ),
    ],
)
def test_train_errors_are_one_line(tiny_llama, tmp_path, monkeypatch, flags, message):
    import importlib.util

    for package in ("wandb", "tensorboard", "flash_attn"):
        assert importlib.util.find_spec(package) is None  # this machine has none of them
    monkeypatch.delenv("LOCAL_RANK", raising=False)
    data = tmp_path / "sft.parquet"
    pd.DataFrame([{"input": "USER: Hi\nASSISTANT: ", "output": "Hello."}]).to_parquet(data)
    args = [
        "train",
        "sft",
        "--model",
        str(tiny_llama),
        "--data",
        str(data),
        "--output-dir",
        str(tmp_path / "o"),
        *flags,
    ]
    result = CliRunner().invoke(cli, args)
    assert result.exit_code == 1
    lines = result.output.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("Error: ") and message in lines[0], result.output


def test_train_errors_deepspeed_under_a_launcher_passes_the_check(tiny_llama, monkeypatch):
    monkeypatch.setenv("LOCAL_RANK", "0")
    train_common.check_environment(SFT.Options(model=str(tiny_llama), deepspeed="zero2"))


def test_train_logs_are_quiet_by_default(tiny_llama, tmp_path):
    data = tmp_path / "sft.parquet"
    pd.DataFrame(
        [{"input": f"USER: What is {i} plus {i}?\nASSISTANT: ", "output": f"{2 * i}."} for i in range(8)]
    ).to_parquet(data)
    command = [
        sys.executable,
        "-m",
        "bagel_core",
        "train",
        "sft",
        "--model",
        str(tiny_llama),
        "--data",
        str(data),
        "--max-steps",
        "3",
        "--max-length",
        "64",
        "--no-gradient-checkpointing",
        "--save-steps",
        "1000",
        "--eval-fraction",
        "0.25",
    ]
    env = {**os.environ, "PYTHONWARNINGS": "default"}
    saved = f"saved the model, tokenizer and training state (trainer_state.json, bagel_data.json) to {tmp_path / 'q'}"
    quiet = subprocess.run(
        [*command, "--output-dir", str(tmp_path / "q"), "-q"], capture_output=True, text=True, env=env, cwd=tmp_path
    )
    assert quiet.returncode == 0, quiet.stderr
    # -q: the metrics trl logs (a line per logging step and eval, and the summary), then where the result is.
    assert quiet.stderr.strip() == saved, quiet.stderr
    lines = quiet.stdout.strip().splitlines()
    assert len(lines) == 7 and all(line.startswith("{'") for line in lines), quiet.stdout
    # By default also the trainer's progress bar with its ETA (tqdm's [elapsed<remaining]), no warnings.
    bar = subprocess.run(
        [*command, "--output-dir", str(tmp_path / "q")], capture_output=True, text=True, env=env, cwd=tmp_path
    )
    assert bar.returncode == 0, bar.stderr
    assert re.search(r"\d+/3 \[\d\d:\d\d<\d\d:\d\d", bar.stderr) and bar.stderr.strip().endswith(saved), bar.stderr
    assert "warn" not in bar.stderr.lower(), bar.stderr


def test_train_verbose_restores_the_libraries_logs(monkeypatch):
    import datasets
    import transformers

    monkeypatch.setenv("DS_ACCELERATOR", "cpu")  # quiet_logs may set it; keep the process as it was
    # A `bagel run` earlier in this test process sets HF_DATASETS_DISABLE_PROGRESS_BARS before
    # datasets is imported (console.LIBRARY_ENV), which then refuses to enable its bars: a
    # `bagel train -v` process starts without it.
    monkeypatch.setattr(
        sys.modules[datasets.enable_progress_bars.__module__], "HF_DATASETS_DISABLE_PROGRESS_BARS", None
    )
    try:
        train_common.quiet_logs(0)
        assert transformers.logging.get_verbosity() == transformers.logging.ERROR
        assert not transformers.utils.logging.is_progress_bar_enabled() and not datasets.is_progress_bar_enabled()
        train_common.quiet_logs(1)
        assert transformers.logging.get_verbosity() == transformers.logging.INFO
        assert transformers.utils.logging.is_progress_bar_enabled() and datasets.is_progress_bar_enabled()
    finally:
        transformers.logging.set_verbosity_warning()


class FakeHub:
    """huggingface_hub.HfApi at its boundary: records the calls and the files an upload sends."""

    calls: list = []

    def __init__(self, token=None):
        self.token = token

    def create_repo(self, repo_id, **kwargs):
        self.calls.append(("create_repo", repo_id, kwargs))
        return f"https://huggingface.co/{repo_id}"

    def upload_folder(self, *, repo_id, folder_path, ignore_patterns, **kwargs):
        from huggingface_hub.utils import filter_repo_objects

        files = sorted(str(p.relative_to(folder_path)) for p in Path(folder_path).rglob("*") if p.is_file())
        sent = sorted(filter_repo_objects(files, ignore_patterns=ignore_patterns))
        self.calls.append(("upload_folder", repo_id, {"files": sent, **kwargs}))


def test_train_push_to_hub_sends_the_model_only(tiny_llama, tmp_path, monkeypatch):
    import huggingface_hub

    FakeHub.calls = []
    monkeypatch.setattr(huggingface_hub, "HfApi", FakeHub)
    out = tmp_path / "sft"
    shutil.copytree(tiny_llama, out)
    for leftover in ("checkpoint-200/model.safetensors", "checkpoint-200/optimizer.pt", "base-model/model.safetensors"):
        (out / leftover).parent.mkdir(exist_ok=True)
        (out / leftover).write_text("x")
    (out / "trainer_state.json").write_text("{}")
    url = train_export.push_model(str(out), "me/bagel-sft", private=True)
    assert url == "https://huggingface.co/me/bagel-sft"
    (create, repo, kwargs), (upload, repo2, sent) = FakeHub.calls
    assert (create, repo, kwargs) == (
        "create_repo",
        "me/bagel-sft",
        {"repo_type": "model", "private": True, "exist_ok": True},
    )
    assert (upload, repo2, sent["repo_type"]) == ("upload_folder", "me/bagel-sft", "model")
    assert sent["files"] == sorted(
        [
            "config.json",
            "generation_config.json",
            "model.safetensors",
            "tokenizer.json",
            "tokenizer_config.json",
            "trainer_state.json",
        ]
    )

    # An adapter on a local base model would not load from the Hub: a clear error, nothing sent.
    adapter = tmp_path / "adapter"
    adapter.mkdir()
    (adapter / "adapter_config.json").write_text('{"base_model_name_or_path": "%s"}' % tiny_llama)
    FakeHub.calls = []
    with pytest.raises(train_export.ExportError, match="bagel train merge --adapter"):
        train_export.push_model(str(adapter), "me/x")
    assert FakeHub.calls == []
