"""Trainers are a plugin kind like the others: the word-count trainer of docs/training.md runs
through `bagel train wordcount` with its own options only (no --model) and without torch or
transformers being imported, and its trl trainer (CPO, a `TrlTrainer`) trains a tiny model
through `bagel train cpo`; the base classes come from the public `bagel_core.train`."""

from __future__ import annotations

import json
import re
import subprocess
import sys

import pandas as pd
from engine_fixtures import REPO

DOC = (REPO / "docs" / "training.md").read_text()
EXAMPLE = next(b for b in re.findall(r"```python\n(.*?)```", DOC, re.S) if "class WordCount" in b)
TRL_EXAMPLE = next(b for b in re.findall(r"```python\n(.*?)```", DOC, re.S) if "class CPO" in b)

RUN = """
import sys, types
module = types.ModuleType("wordcount_plugin")
exec(compile(sys.argv[1], "docs/training.md", "exec"), module.__dict__)
sys.modules["wordcount_plugin"] = module
from bagel_core import registry
from bagel_core.testing import registry_with
registry.use(registry_with(("wordcount", module)))
from bagel_core.cli import cli
try:
    cli.main(sys.argv[2:], prog_name="bagel", standalone_mode=False)
finally:
    print("HEAVY", sorted(m for m in ("torch", "transformers", "trl", "peft", "datasets") if m in sys.modules))
"""


def bagel(*args: str, example: str = EXAMPLE) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-c", RUN, example, *args], capture_output=True, text=True)


def test_a_trainer_without_a_model_runs_through_bagel_train(tmp_path):
    data = tmp_path / "sft.parquet"
    pd.DataFrame({"source": ["a", "a", "b"], "output": ["one two", "three", "four five six"]}).to_parquet(data)
    out = tmp_path / "counts"
    result = bagel("train", "wordcount", "--data", str(data), "--output-dir", str(out))
    assert result.returncode == 0, result.stderr[-2000:]
    assert json.loads((out / "counts.json").read_text()) == {"a": 3, "b": 3}
    assert f"saved the word counts of 2 sources to {out / 'counts.json'}" in result.stdout
    assert "HEAVY []" in result.stdout  # bagel train imported nothing heavy for it
    help_text = bagel("train", "wordcount", "--help").stdout
    assert "--output-dir" in help_text and "--model" not in help_text


def test_the_public_module_names_the_base_classes():
    import bagel_core.train as public
    from bagel_core.builtin.train import common as train_common

    assert public.TrlTrainer is train_common.TrlTrainer and public.TrainOptions is train_common.TrainOptions
    assert "TrlTrainer" in public.__all__ and "Trainer" in public.__all__


def test_the_trl_trainer_example_trains_through_bagel_train(tiny_llama, tmp_path):
    data = tmp_path / "dpo.parquet"
    rows = [
        {"prompt": f"USER: {i} plus {i}?\nASSISTANT:", "chosen": f" {2 * i}.", "rejected": " No idea."}
        for i in range(6)
    ]
    pd.DataFrame(rows).to_parquet(data)
    out = tmp_path / "cpo"
    args = ["--model", str(tiny_llama), "--data", str(data), "--output-dir", str(out), "--max-steps", "2"]
    args += ["--per-device-train-batch-size", "2", "--max-length", "64", "--no-gradient-checkpointing", "-q"]
    result = bagel("train", "cpo", *args, "--beta", "0.2", example=TRL_EXAMPLE)
    assert result.returncode == 0, result.stderr[-2000:]
    assert (
        f"saved the model, tokenizer and training state (trainer_state.json, bagel_data.json) to {out}" in result.stderr
    )
    state = json.loads((out / "trainer_state.json").read_text())
    assert state["global_step"] == 2 and all(h["loss"] > 0 for h in state["log_history"] if "loss" in h)
    assert json.loads((out / "bagel_data.json").read_text())["rows"]["train"] == len(rows)
    assert "--beta" in bagel("train", "cpo", "--help", example=TRL_EXAMPLE).stdout
