"""The dedup stage reads the shards' texts once: the chains decide from the light columns, and
one last pass writes both scopes. The outputs are those of a plain first-occurrence filter."""

from __future__ import annotations

from collections import Counter

import pyarrow as pa
import pyarrow.parquet as pq

from bagel_core.builtin.dedup.exact import ExactDeduper
from bagel_core.records import dpo_pair, plain_text, sft_item
from bagel_core.stages import WORK_SCHEMA
from bagel_core.stages.dedup import run_dedup
from bagel_core.storage import ParquetSink

#: Columns whose values are texts (a read naming none of them, or all columns, reads none).
TEXTS = ("conversations.list.element.value", "text", "prompt", "chosen", "rejected")


def _shard(path, origin, records):
    with ParquetSink(path, WORK_SCHEMA, rows_per_group=4) as sink:
        sink.write(pa.Table.from_pylist([dict(r, origin=origin) for r in records], schema=WORK_SCHEMA))
    return path


def _chat(i: int):
    return sft_item("chat", [{"from": "human", "value": f"question {i}"}, {"from": "gpt", "value": f"answer {i}"}])


def test_each_row_group_is_read_with_its_texts_once_and_outputs_are_first_occurrences(tmp_path, monkeypatch):
    high = _shard(tmp_path / "high.parquet", "high", [_chat(i) for i in range(10)])
    low = _shard(tmp_path / "low.parquet", "low", [_chat(i) for i in range(5, 16)])
    books = _shard(tmp_path / "books.parquet", "books", [plain_text("books", f"chapter {i}") for i in (1, 1, 2)])
    pairs = _shard(
        tmp_path / "pairs.parquet", "pairs", [dpo_pair("prefs", f"question {i}", "good", "bad") for i in (1, 2, 2, 3)]
    )
    shards = [high, low, books, pairs]  # distinct row counts: the reads below are told apart by them
    reads: Counter = Counter()  # (shard's rows, row group or "batches") -> reads with texts
    real_group, real_batches = pq.ParquetFile.read_row_group, pq.ParquetFile.iter_batches

    def with_texts(file, columns) -> bool:
        leaves = [file.schema.column(k).path for k in range(len(file.schema))]
        chosen = leaves if columns is None else [p for p in leaves for c in columns if p == c or p.startswith(c + ".")]
        return any(leaf in TEXTS for leaf in chosen)

    def group(self, i, columns=None, **kwargs):
        if with_texts(self, columns):
            reads[(self.metadata.num_rows, i)] += 1
        return real_group(self, i, columns=columns, **kwargs)

    def batches(self, *args, columns=None, **kwargs):
        if with_texts(self, columns):
            reads[(self.metadata.num_rows, "batches")] += 1
        return real_batches(self, *args, columns=columns, **kwargs)

    monkeypatch.setattr(pq.ParquetFile, "read_row_group", group)
    monkeypatch.setattr(pq.ParquetFile, "iter_batches", batches)
    out = tmp_path / "out"
    out.mkdir()
    counts = run_dedup(shards, out, lambda: [ExactDeduper()])
    groups = sum(pq.ParquetFile(s).num_row_groups for s in shards)
    assert len(reads) == groups and set(reads.values()) == {1}
    monkeypatch.undo()
    sft = pq.read_table(out / "sft.parquet").to_pylist()
    assert [r["origin"] for r in sft] == ["high"] * 10 + ["low"] * 6 + ["books"] * 2
    assert [r["text"] for r in sft[16:]] == ["chapter 1", "chapter 2"]
    assert [r["prompt"] for r in pq.read_table(out / "dpo.parquet").to_pylist()] == [
        "question 1",
        "question 2",
        "question 3",
    ]
    assert (counts["low"]["sft"], counts["books"]["sft"], counts["pairs"]["dpo"]) == (5, 1, 1)
    report = pq.read_table(out / "near_duplicates.parquet").to_pylist()
    assert [(r["scope"], r["source"], r["kept_source"]) for r in report] == [("sft", "low", "high")] * 5 + [
        ("sft", "books", "books"),
        ("dpo", "pairs", "pairs"),
    ]
    assert report[0]["text"] == report[0]["kept_text"] == "question 5"
