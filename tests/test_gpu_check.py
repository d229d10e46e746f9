"""benchmarks/gpu_check.py, without a GPU: the plan parses with bagel's CLI (a bad flag is
caught), rows that cannot run here say why, and the embedding row runs on CPU."""

from __future__ import annotations

import importlib.util
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def _script():
    spec = importlib.util.spec_from_file_location("gpu_check", ROOT / "benchmarks" / "gpu_check.py")
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module  # its dataclasses look their module up
    spec.loader.exec_module(module)
    return module


def test_dry_run_plans_every_row(tmp_path, capsys):
    check = _script()
    assert check.main(["--dry-run", "--work", str(tmp_path)]) == 0
    out = capsys.readouterr().out
    for name in (
        "sft qlora",
        "dpo on the sft adapter",
        "sft bf16",
        "sft deepspeed zero2",
        "sft flash-attention 2",
        "embedding decontamination",
    ):
        assert f"| {name} |" in out
    assert "BAD COMMAND" not in out and ("skipped: no CUDA GPU" in out or "would run" in out)
    assert check.parses(["train", "sft", "--model", "m", "--no-such-flag"]) is not None
    assert check.parses(["train", "sft", "--model", "m", "--bf16", "--lora"]) is None


def test_rows_fail_soft_and_the_embedding_row_runs_on_cpu(tmp_path, capsys):
    check = _script()
    assert (
        check.main(
            [
                "--allow-cpu",
                "--only",
                "embedding decontamination,dpo on the sft adapter",
                "--texts",
                "40",
                "--work",
                str(tmp_path),
            ]
        )
        == 0
    )
    out = capsys.readouterr().out
    row = next(line for line in out.splitlines() if line.startswith("| embedding decontamination |"))
    assert "| ok |" in row and "texts/s" in row and "40 each, 40 queries matched" in row
    dpo = next(line for line in out.splitlines() if line.startswith("| dpo on the sft adapter |"))
    assert "skipped" in dpo  # bitsandbytes absent, or the sft row it starts from did not run
