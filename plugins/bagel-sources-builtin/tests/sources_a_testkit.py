"""Helpers of the test_sources_* tests of the single-turn sources (ai2_arc ... winogrande).

Not a test module: the tests import it (pytest puts this folder on sys.path).
"""

from __future__ import annotations

import json
from dataclasses import replace
from pathlib import Path
from typing import Any, Optional

import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from bagel_core import DatasetUnavailable, validate_record
from bagel_core.context import LoadContext, LoadCounts
from bagel_core.data import DataAccess
from bagel_core.testing import check_component, load_sample

#: Real upstream rows (read-only, never copied into the repo): ``../shared/data/sources``.
REAL = Path(__file__).resolve().parents[3] / ".." / "shared" / "data" / "sources"


def load(cls: type, root: Optional[Path] = None, seed: int = 0, **options: Any) -> tuple[list[dict], LoadCounts]:
    """Run source ``cls`` on its shipped sample, or on data root ``root``, through the load
    stage's validation: the records it keeps and its counts."""
    records, counts = load_sample(cls, replace(cls.Options(), **options), seed=seed, data_root=root)
    for record in records:
        assert validate_record(record) is None
    return records, counts


def turns(record: dict) -> list[tuple[str, str]]:
    return [(t["from"], t["value"]) for t in record["conversations"]]


def by_instruction(records: list[dict]) -> dict[str, dict]:
    return {next(t["value"] for t in r["conversations"] if t["from"] == "human"): r for r in records}


def assert_missing_dataset_named(cls: type, tmp_path: Path) -> None:
    """With neither a local copy nor the Hub, the error names the dataset and how to provide it;
    and the source meets the component contract (its sample yields valid records)."""
    check_component(cls)
    ctx = LoadContext(cls.name, 0, DataAccess(tmp_path, hub=False), cls.Options())
    with pytest.raises(DatasetUnavailable) as err:
        list(cls().load(ctx))
    assert cls.dataset_ids[0] in str(err.value)
    assert "--data-root" in str(err.value)


def write_parquet(path: Path, rows: list[dict], schema: Optional[pa.Schema] = None) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    pq.write_table(pa.Table.from_pylist(rows, schema=schema), path)
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
            "choices": {"text": [c["text"] for c in r["question"]["choices"]], "label": [c["label"] for c in r["question"]["choices"]]},
            "answerKey": r["answerKey"],
        }
        for r in rows
    ]
