"""Helpers of the test_sources_* tests (one kit for every built-in source).

Not a test module: the tests import it (pytest puts this folder on sys.path). What a
third-party plugin would need too lives in :mod:`bagel_core.testing`; this adds what only the
built-in sources' tests share (real upstream rows in ../shared, upstream layouts).
"""

from __future__ import annotations

import gzip
import json
import shutil
from pathlib import Path
from typing import Any

import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from bagel_core import DatasetUnavailable
from bagel_core.testing import LoadCounts, check_component, load_context, load_sample
from bagel_sources_builtin import SAMPLES
from bagel_sources_builtin.humaneval_filter import HUMANEVAL_FILES, HUMANEVAL_ID

_SHARED = Path(__file__).resolve().parents[3] / ".." / "shared" / "data"
#: Real upstream rows (read-only, never copied into the repo): ``../shared/data/sources``.
REAL = _SHARED / "sources"
#: The real HumanEval test set (read-only, never copied into the repo).
REAL_HUMANEVAL = _SHARED / "benchmarks" / "humaneval" / "HumanEval.jsonl.gz"


def load(cls: type, root: Path | None = None, seed: int = 0, **options: Any) -> tuple[list[dict], LoadCounts]:
    """Run source ``cls`` with ``options`` (validated as a recipe's) on its shipped sample, or on
    data root ``root``, through the load stage's validation: the records it keeps and its counts."""
    return load_sample(cls, options, seed=seed, data_root=root)


def turns(record: dict) -> list[tuple[str, str]]:
    return [(t["from"], t["value"]) for t in record["conversations"]]


def by_instruction(records: list[dict]) -> dict[str, dict]:
    """Records by their first human turn."""
    return {next(t["value"] for t in r["conversations"] if t["from"] == "human"): r for r in records}


def assert_missing_dataset_named(cls: type, tmp_path: Path, dataset_id: str | None = None) -> None:
    """The source meets the component contract (its sample yields valid records); and with
    neither a local copy nor the Hub, the error names the dataset and how to provide it."""
    check_component(cls)
    ctx = load_context(cls, data_root=tmp_path, hub=False, seed=0)
    with pytest.raises(DatasetUnavailable) as err:
        list(cls().load(ctx))
    assert (dataset_id or cls.dataset_ids[0]) in str(err.value)
    assert "--data-root" in str(err.value)


def data_root(tmp_path: Path, *dataset_ids: str) -> Path:
    """A data root holding copies of the shipped samples of ``dataset_ids``."""
    for dataset_id in dataset_ids:
        shutil.copytree(SAMPLES / dataset_id, tmp_path / dataset_id)
    return tmp_path


def real_humaneval(root: Path) -> Path:
    """The real HumanEval test set written into ``root`` in its upstream (parquet) layout."""
    with gzip.open(REAL_HUMANEVAL, "rt", encoding="utf-8") as lines:
        rows = [json.loads(line) for line in lines]
    write_parquet(root / HUMANEVAL_ID / HUMANEVAL_FILES["test"], rows)
    return root


def write_parquet(path: Path, rows: list[dict], schema: pa.Schema | None = None) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    pq.write_table(pa.Table.from_pylist(rows, schema=schema), path)
    return path


def write_jsonl(path: Path, rows: list[Any]) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text("".join(json.dumps(r) + "\n" for r in rows), encoding="utf-8")
    return path


def read_jsonl(path: Path) -> list[dict]:
    return [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines() if line.strip()]


def arc_style(rows: list[dict]) -> list[dict]:
    """AI2's raw ARC/OpenBookQA rows (question.stem, question.choices[{text, label}]) in the
    Hub's parquet schema (choices as {text: [...], label: [...]}), as the HF loader converts them."""
    return [
        {
            "id": r["id"],
            "question": r["question"]["stem"],
            "choices": {
                "text": [c["text"] for c in r["question"]["choices"]],
                "label": [c["label"] for c in r["question"]["choices"]],
            },
            "answerKey": r["answerKey"],
        }
        for r in rows
    ]
