"""The whole chain from the command line: ``bagel run --sample`` -> ``bagel train sft`` ->
``bagel train dpo``; and the trainers' imports stay light."""

from __future__ import annotations

import json
import subprocess
import sys

from click.testing import CliRunner

from bagel_core.cli import cli

FAST = [
    "--max-length",
    "128",
    "--no-gradient-checkpointing",
    "--per-device-train-batch-size",
    "4",
    "--save-steps",
    "1000",
]


def test_train_cli_run_then_sft_then_dpo(tiny_llama, tmp_path):
    from transformers import AutoTokenizer

    runner = CliRunner()
    data = tmp_path / "bagel-out"
    result = runner.invoke(
        cli, ["run", "--sample", "--formats", "llama-2", "--decontaminate", "none", "--out", str(data), "-q"]
    )
    assert result.exit_code == 0, result.output

    sft = tmp_path / "sft"
    result = runner.invoke(
        cli,
        [
            "train",
            "sft",
            "--model",
            str(tiny_llama),
            "--data",
            str(data),
            "--output-dir",
            str(sft),
            "--max-steps",
            "3",
            "--learning-rate",
            "1e-3",
            "--eval-fraction",
            "0.05",
            "--eval-steps",
            "3",
            "--neftune-noise-alpha",
            "5",
            *FAST,
        ],
    )
    assert result.exit_code == 0, result.output
    state = json.loads((sft / "trainer_state.json").read_text())
    assert state["global_step"] == 3 and any("eval_loss" in h for h in state["log_history"])
    assert "[INST]" in AutoTokenizer.from_pretrained(sft).chat_template  # llama-2, the default

    dpo = tmp_path / "dpo"
    result = runner.invoke(
        cli,
        [
            "train",
            "dpo",
            "--model",
            str(sft),
            "--data",
            str(data),
            "--output-dir",
            str(dpo),
            "--max-steps",
            "2",
            "--beta",
            "0.2",
            "--max-prompt-length",
            "64",
            *FAST,
        ],
    )
    assert result.exit_code == 0, result.output
    assert json.loads((dpo / "trainer_state.json").read_text())["global_step"] == 2
    assert (dpo / "model.safetensors").is_file()
    assert AutoTokenizer.from_pretrained(dpo).chat_template == AutoTokenizer.from_pretrained(sft).chat_template

    result = runner.invoke(cli, ["train", "dpo", "--model", str(sft), "--data", str(tmp_path / "nothing.parquet")])
    assert result.exit_code == 1 and "nothing.parquet" in result.output


def test_train_cli_options_and_light_imports():
    result = CliRunner().invoke(cli, ["train", "sft", "--help"])
    for flag in (
        "--lora-target-modules",
        "--deepspeed",
        "--chat-format",
        "--neftune-noise-alpha",
        "--resume-from-checkpoint",
        "--attn-implementation",
    ):
        assert flag in result.output
    assert "--beta" in CliRunner().invoke(cli, ["train", "dpo", "--help"]).output
    code = (
        "import sys, bagel_core.builtin.train.sft, bagel_core.builtin.train.dpo;"
        "print(sorted(m for m in ('torch', 'transformers', 'trl', 'peft', 'deepspeed') if m in sys.modules))"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
    assert out.strip() == "[]"


def test_train_flags_of_optional_fields_keep_their_type():
    """``X | None`` is read as ``Optional[X]``: ``--n 3`` gives the int 3, not the string '3'
    (which the options layer refuses: every ``bagel train`` flag of type ``int | None`` was)."""
    import dataclasses
    from typing import Optional

    import click

    from bagel_core.cli import option_params

    # Real type objects (this module's annotations are strings): both spellings under test.
    fields = [("old", Optional[int], None), ("new", int | None, None)]  # noqa: UP045
    Options = dataclasses.make_dataclass("Options", fields)
    seen = {}
    command = click.Command("t", params=option_params(Options), callback=lambda **values: seen.update(values))
    result = CliRunner().invoke(command, ["--old", "3", "--new", "4"])
    assert result.exit_code == 0, result.output
    assert seen == {"old": 3, "new": 4}
