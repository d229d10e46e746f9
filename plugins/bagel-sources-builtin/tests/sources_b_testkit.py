"""Helpers of the test_sources_* tests of the conversation and text sources (airoboros ... synthia).

Not a test module: the tests import it (pytest puts this folder on sys.path).
"""

from __future__ import annotations

import gzip
import json
import shutil
from dataclasses import replace
from pathlib import Path
from typing import Any, Optional

import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from bagel_core import DatasetUnavailable, validate_record
from bagel_core.context import LoadContext, LoadCounts
from bagel_core.data import DataAccess
from bagel_core.stages.load import validated
from bagel_sources_builtin import SAMPLES
from bagel_sources_builtin.humaneval_filter import HUMANEVAL_FILES, HUMANEVAL_ID

#: The real HumanEval test set (read-only, never copied into the repo).
REAL_HUMANEVAL = Path(__file__).resolve().parents[3] / ".." / "shared" / "data" / "benchmarks" / "humaneval" / "HumanEval.jsonl.gz"


def load(cls: type, root: Optional[Path] = None, seed: int = 0, **options: Any) -> tuple[list[dict], LoadCounts]:
    """Run ``cls`` on its shipped sample (or data root ``root``) through the load stage's
    validation; every kept record is valid. Returns the records and the counts."""
    opts = replace(cls.Options(), **options)
    data = DataAccess(cls.sample_root, sample=True) if root is None else DataAccess(root, hub=False)
    ctx = LoadContext(cls.name, seed, data, opts)
    records = list(validated(cls(opts).load(ctx), ctx))
    for record in records:
        assert validate_record(record) is None
    return records, ctx.counts


def turns(record: dict) -> list[tuple[str, str]]:
    return [(t["from"], t["value"]) for t in record["conversations"]]


def by_first_human(records: list[dict]) -> dict[str, dict]:
    return {next(t["value"] for t in r["conversations"] if t["from"] == "human"): r for r in records}


def assert_missing_dataset_named(cls: type, tmp_path: Path, dataset_id: Optional[str] = None) -> None:
    """With neither a local copy nor the Hub, the error names the dataset and how to provide it."""
    ctx = LoadContext(cls.name, 0, DataAccess(tmp_path, hub=False), cls.Options())
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


def write_parquet(path: Path, rows: list[dict], schema: Optional[pa.Schema] = None) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    pq.write_table(pa.Table.from_pylist(rows, schema=schema), path)
    return path


def write_jsonl(path: Path, rows: list[Any]) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text("".join(json.dumps(r) + "\n" for r in rows), encoding="utf-8")
    return path
