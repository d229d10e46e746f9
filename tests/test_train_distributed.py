"""Two real ranks train one model: a torchrun launch of two processes on CPU (gloo) is one
training with a world of 2 (half the steps of an epoch, the same weights on both ranks), not two
trainings side by side."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pandas as pd

HERE = Path(__file__).parent
ROWS = [
    {"input": f"USER: What is {a} plus {b}?\nASSISTANT: ", "output": f"{a + b}."}
    for a, b in [(1, 2), (2, 3), (3, 4), (4, 5), (5, 6), (6, 7), (7, 8), (8, 9)]
]


def launch(nproc: int, model: Path, data: Path, out: Path) -> subprocess.CompletedProcess:
    command = [
        sys.executable,
        "-m",
        "torch.distributed.run",
        "--standalone",
        "--nproc-per-node",
        str(nproc),
        str(HERE / "train_rank.py"),
        str(model),
        str(data),
        str(out),
    ]
    env = {
        **os.environ,
        "HF_HUB_OFFLINE": "1",
        "OMP_NUM_THREADS": "1",
        "PYTHONPATH": os.pathsep.join([*sys.path[:1], os.environ.get("PYTHONPATH", "")]),
    }
    return subprocess.run(command, capture_output=True, text=True, env=env, timeout=600)


# Over 20 s (28 CPU seconds): two torchrun launches (1 and 2 ranks), each rank a Python of its own
# importing torch and trl; N ranks are only checked by starting N processes.
def test_two_ranks_train_one_model(tiny_llama, tmp_path):
    data = tmp_path / "sft.parquet"
    pd.DataFrame(ROWS).to_parquet(data)
    one, two = tmp_path / "one", tmp_path / "two"
    for nproc, out in ((1, one), (2, two)):
        result = launch(nproc, tiny_llama, data, out)
        assert result.returncode == 0, result.stderr[-3000:]
    single = json.loads((one / "rank0.json").read_text())
    ranks = [json.loads((two / f"rank{r}.json").read_text()) for r in (0, 1)]
    assert single["world_size"] == 1 and single["steps"] == 4  # 8 rows, 2 per batch
    assert [r["world_size"] for r in ranks] == [2, 2] and [r["rank"] for r in ranks] == [0, 1]
    assert [r["steps"] for r in ranks] == [2, 2]  # each rank a half of every epoch
    assert ranks[0]["weights"] == ranks[1]["weights"]  # gradients averaged: one model
    assert ranks[0]["weights"] != single["weights"]


def test_a_trainer_outside_the_launchers_world_is_one_line(monkeypatch):
    from types import SimpleNamespace

    import pytest

    from bagel_core.builtin.train.common import TrainingSetupError, check_world_size

    monkeypatch.setenv("WORLD_SIZE", "2")
    check_world_size(SimpleNamespace(world_size=2, device="cpu"))
    with pytest.raises(TrainingSetupError, match="started 2 processes but the trainer sees a world of 1"):
        check_world_size(SimpleNamespace(world_size=1, device="cpu"))
