"""Token counts of the written rows, per source and prompt format, for the manifest.

Counted only when the run has ``--tokenizer`` (the tokenizer the rows are meant for). Texts are
tokenized without special tokens: the formats already write BOS/EOS as text, so they are
counted where they appear. Sources are the ``source`` column of the output files (the labels a
user filters on, e.g. ``airoboros_writing``), not the component names of the manifest's
``sources``.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from ..storage import iter_batches

#: Text columns counted per file.
COLUMNS = {"sft": ("input", "output"), "dpo": ("prompt", "chosen", "rejected")}


def _lengths(tokenizer: Any, texts: pa.Array) -> pa.Array:
    """Token counts of ``texts``, each distinct text tokenized once: an answer is the same
    string in every format's row, so an SFT batch repeats each output as many times."""
    encoded = pc.dictionary_encode(texts)
    unique = encoded.dictionary.to_pylist()
    counts = np.fromiter((len(ids) for ids in tokenizer(unique, add_special_tokens=False)["input_ids"]), dtype=np.int64, count=len(unique))
    return pa.array(counts[encoded.indices.to_numpy(zero_copy_only=False)])


def count_file(path: Path, columns: tuple[str, ...], tokenizer: Any, batch_size: int = 2048) -> dict[str, dict[str, dict[str, int]]]:
    """``{source: {format: {"rows": n, column: tokens, ...}}}`` of one parquet file."""
    counts: dict[str, dict[str, dict[str, int]]] = {}
    for batch in iter_batches(path, columns=["source", "format", *columns], batch_size=batch_size):
        table = pa.table({"source": batch.column("source"), "format": batch.column("format"), **{c: _lengths(tokenizer, batch.column(c)) for c in columns}})
        grouped = table.group_by(["source", "format"]).aggregate([("source", "count"), *((c, "sum") for c in columns)])
        for row in grouped.to_pylist():
            entry = counts.setdefault(row["source"], {}).setdefault(row["format"], {"rows": 0, **{c: 0 for c in columns}})
            entry["rows"] += row["source_count"]
            for c in columns:
                entry[c] += row[f"{c}_sum"]
    return {source: dict(sorted(formats.items())) for source, formats in sorted(counts.items())}


def count_tokens(out: Path, tokenizer_path: str) -> dict[str, Any]:
    """Token counts of ``out/sft.parquet`` and ``out/dpo.parquet`` with ``tokenizer_path``."""
    from transformers import AutoTokenizer

    tokenizer = AutoTokenizer.from_pretrained(tokenizer_path)
    result: dict[str, Any] = {"tokenizer": tokenizer_path}
    totals: dict[str, dict[str, int]] = {}
    for kind, columns in COLUMNS.items():
        per_source = count_file(out / f"{kind}.parquet", columns, tokenizer)
        result[kind] = per_source
        totals[kind] = {c: sum(f[c] for formats in per_source.values() for f in formats.values()) for c in ("rows", *columns)}
    result["totals"] = totals
    return result
