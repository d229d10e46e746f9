"""The dedup stage reads the shards' texts once: the chains decide from the light columns, and
one last pass writes both scopes. The outputs are those of a plain first-occurrence filter."""

from __future__ import annotations

from collections import Counter

import pyarrow as pa
import pyarrow.parquet as pq

from bagel_core.builtin.dedup_exact import ExactDeduper
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
    pairs = _shard(tmp_path / "pairs.parquet", "pairs", [dpo_pair("prefs", f"question {i}", "good", "bad") for i in (1, 2, 2, 3)])
    shards = [high, low, books, pairs]  # distinct row counts: the reads below are told apart by them
    reads: Counter = Counter()
    real = pq.ParquetFile.read_row_group

    def counting(self, i, columns=None, **kwargs):
        table = real(self, i, columns=columns, **kwargs)
        leaves = [self.schema.column(k).path for k in range(len(self.schema))] if columns is None else \
            [p for c in columns for p in (self.schema.column(k).path for k in range(len(self.schema))) if p == c or p.startswith(c + ".")]
        if any(leaf in TEXTS for leaf in leaves):
            reads[(self.metadata.num_rows, i)] += 1
        return table

    monkeypatch.setattr(pq.ParquetFile, "read_row_group", counting)
    out = tmp_path / "out"
    out.mkdir()
    counts = run_dedup(shards, out, lambda: [ExactDeduper()])
    groups = sum(pq.ParquetFile(s).num_row_groups for s in shards)
    assert len(reads) == groups and set(reads.values()) == {1}
    monkeypatch.undo()
    sft = pq.read_table(out / "sft.parquet").to_pylist()
    assert [r["origin"] for r in sft] == ["high"] * 10 + ["low"] * 6 + ["books"] * 2
    assert [r["text"] for r in sft[16:]] == ["chapter 1", "chapter 2"]
    assert [r["prompt"] for r in pq.read_table(out / "dpo.parquet").to_pylist()] == ["question 1", "question 2", "question 3"]
    assert (counts["low"]["sft"], counts["books"]["sft"], counts["pairs"]["dpo"]) == (5, 1, 1)
    report = pq.read_table(out / "near_duplicates.parquet").to_pylist()
    assert [(r["scope"], r["source"], r["kept_source"]) for r in report] == [("sft", "low", "high")] * 5 + [("sft", "books", "books"), ("dpo", "pairs", "pairs")]
    assert report[0]["text"] == report[0]["kept_text"] == "question 5"
