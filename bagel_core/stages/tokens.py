"""Token counts of the written rows, per source and prompt format, for the manifest.

Counted only when the run has ``--tokenizer`` (the tokenizer the rows are meant for). Texts are
tokenized without special tokens: the formats already write BOS/EOS as text, so they are
counted where they appear. Sources are the ``source`` column of the output files (the labels a
user filters on, e.g. ``airoboros_writing``), not the component names of the manifest's
``sources``.
"""

from __future__ import annotations

import os
from collections import deque
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from ..processes import in_order, worker_pool
from ..storage import iter_batches

#: Text columns counted per file.
COLUMNS = {"sft": ("prompt", "completion"), "dpo": ("prompt", "chosen", "rejected")}


def sft_tokens(entry: dict[str, int]) -> int:
    """Prompt plus completion tokens of one ``{"rows", "prompt", "completion"}`` entry of a
    manifest's ``tokens.sft`` (a manifest of an earlier bagel says ``input``/``output``)."""
    return entry.get("prompt", entry.get("input", 0)) + entry.get("completion", entry.get("output", 0))


#: Rows per batch read (the distinct texts of one column of a batch go to a worker at once).
BATCH = 2048

#: A worker's tokenizer, loaded once by its initializer from the path it is given (a path
#: pickles the same under fork and spawn; the tokenizer object is never sent).
_STATE: dict[str, Any] = {}


def _load(tokenizer_path: str) -> Any:
    from transformers import AutoTokenizer

    return AutoTokenizer.from_pretrained(tokenizer_path)


def _init_worker(tokenizer_path: str) -> None:
    _STATE["tokenizer"] = _load(tokenizer_path)


def _count(texts: list[str], tokenizer: Any = None) -> tuple[int, np.ndarray]:
    """The token length of each text, and the process that counted them."""
    if not texts:
        return os.getpid(), np.zeros(0, dtype=np.int64)
    ids = (tokenizer or _STATE["tokenizer"])(texts, add_special_tokens=False)["input_ids"]
    return os.getpid(), np.fromiter((len(i) for i in ids), dtype=np.int64, count=len(texts))


class TokenCounter:
    """``counter(batches)``: the token lengths of each batch of texts, in order; ``pids`` are
    the processes that did the counting."""

    def __init__(self, tokenizer: Any = None, pool: Any = None, num_proc: int = 1) -> None:
        self.tokenizer, self.pool, self.num_proc = tokenizer, pool, num_proc
        self.pids: set[int] = set()

    def __call__(self, batches: Iterable[list[str]]) -> Iterator[np.ndarray]:
        if self.pool is None:
            results: Iterable = (_count(texts, self.tokenizer) for texts in batches)
        else:
            results = (
                r for _, r in in_order(lambda texts: self.pool.submit(_count, texts), batches, 2 * self.num_proc)
            )
        for pid, lengths in results:
            self.pids.add(pid)
            yield lengths


@contextmanager
def token_counter(tokenizer_path: str, num_proc: int = 1) -> Iterator[TokenCounter]:
    """A :class:`TokenCounter` tokenizing in ``num_proc`` worker processes (in this one when
    ``num_proc`` is 1): the same numbers either way."""
    if num_proc <= 1:
        yield TokenCounter(_load(tokenizer_path))
        return
    with worker_pool(num_proc, initializer=_init_worker, initargs=(tokenizer_path,)) as pool:
        yield TokenCounter(pool=pool, num_proc=num_proc)


def row_lengths(
    path: Path, columns: tuple[str, ...], count: TokenCounter, extra: tuple[str, ...] = ("source", "format")
) -> Iterator[tuple[pa.RecordBatch, dict[str, np.ndarray]]]:
    """Each batch of ``path`` (with ``extra`` columns) and the token length of every row's
    ``columns``. Each distinct text of a batch is tokenized once: an answer is the same string
    in every format's row."""
    pending: deque = deque()  # (batch, column, row -> distinct text), in the order sent

    def texts() -> Iterator[list[str]]:
        for batch in iter_batches(path, columns=[*extra, *columns], batch_size=BATCH):
            for c in columns:
                encoded = pc.dictionary_encode(batch.column(c))
                pending.append((batch, c, encoded.indices.to_numpy(zero_copy_only=False)))
                yield encoded.dictionary.to_pylist()

    lengths: dict[str, np.ndarray] = {}
    for distinct in count(texts()):
        batch, c, index = pending.popleft()
        lengths[c] = distinct[index]
        if len(lengths) == len(columns):
            yield batch, lengths
            lengths = {}


def add_counts(
    counts: dict[str, dict[str, dict[str, int]]],
    batch: pa.RecordBatch,
    lengths: dict[str, np.ndarray],
    columns: tuple[str, ...],
) -> None:
    """Add a batch's rows and token lengths to ``{source: {format: {"rows": n, column: tokens}}}``."""
    table = pa.table(
        {
            "source": batch.column("source"),
            "format": batch.column("format"),
            **{c: pa.array(lengths[c], type=pa.int64()) for c in columns},
        }
    )
    grouped = table.group_by(["source", "format"]).aggregate([("source", "count"), *((c, "sum") for c in columns)])
    for row in grouped.to_pylist():
        entry = counts.setdefault(row["source"], {}).setdefault(row["format"], {"rows": 0, **{c: 0 for c in columns}})
        entry["rows"] += row["source_count"]
        for c in columns:
            entry[c] += row[f"{c}_sum"] or 0


def count_file(path: Path, columns: tuple[str, ...], count: TokenCounter) -> dict[str, dict[str, dict[str, int]]]:
    """``{source: {format: {"rows": n, column: tokens, ...}}}`` of one parquet file."""
    counts: dict[str, dict[str, dict[str, int]]] = {}
    for batch, lengths in row_lengths(path, columns, count):
        add_counts(counts, batch, lengths, columns)
    return {source: dict(sorted(formats.items())) for source, formats in sorted(counts.items())}


def finish_counts(result: dict[str, Any]) -> dict[str, Any]:
    """The manifest's ``tokens``: per-source counts sorted, and totals per file."""
    for kind in COLUMNS:
        result[kind] = {
            source: dict(sorted(formats.items())) for source, formats in sorted(result.get(kind, {}).items())
        }
    result["totals"] = {
        kind: {c: sum(f[c] for formats in result[kind].values() for f in formats.values()) for c in ("rows", *columns)}
        for kind, columns in COLUMNS.items()
    }
    return result


def count_tokens(out: Path, tokenizer_path: str, num_proc: int = 1) -> dict[str, Any]:
    """Token counts of ``out/sft.parquet`` and ``out/dpo.parquet`` with ``tokenizer_path``,
    tokenized in ``num_proc`` worker processes."""
    result: dict[str, Any] = {"tokenizer": tokenizer_path}
    with token_counter(tokenizer_path, num_proc) as count:
        for kind, columns in COLUMNS.items():
            result[kind] = count_file(out / f"{kind}.parquet", columns, count)
    return finish_counts(result)
