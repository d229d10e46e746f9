"""Stage 2: keep the first occurrence of every id, components taken highest priority first.

SFT items and DPO pairs are deduplicated separately: an SFT item by its instruction id among
SFT items, a DPO pair by its prompt id among DPO pairs.
"""

from __future__ import annotations

from collections import Counter
from pathlib import Path

import pyarrow as pa
import pyarrow.compute as pc

from ..storage import ParquetSink, iter_batches, read_json, write_json
from . import DPO_WORK_SCHEMA, SFT_WORK_SCHEMA


def _first_occurrences(ids: list[str], seen: set[str]) -> list[bool]:
    keep = []
    for item_id in ids:
        if item_id in seen:
            keep.append(False)
        else:
            seen.add(item_id)
            keep.append(True)
    return keep


def run_dedup(shards: list[Path], out_dir: Path) -> dict[str, dict[str, int]]:
    """Dedup ``shards`` (already in priority order) into ``out_dir/{sft,dpo}.parquet``.

    Returns duplicates per origin: ``{origin: {"sft": n, "dpo": n}}``.
    """
    counts_path = out_dir / "counts.json"
    if counts_path.exists():
        return read_json(counts_path)
    duplicates: dict[str, Counter] = {}
    seen_sft: set[str] = set()
    seen_dpo: set[str] = set()
    with ParquetSink(out_dir / "sft.parquet", SFT_WORK_SCHEMA) as sft, ParquetSink(out_dir / "dpo.parquet", DPO_WORK_SCHEMA) as dpo:
        for shard in shards:
            for batch in iter_batches(shard):
                table = pa.Table.from_batches([batch])
                origin = table.column("origin")[0].as_py() if table.num_rows else None
                counter = duplicates.setdefault(origin, Counter())
                for kind, sink, seen, mask in (
                    ("sft", sft, seen_sft, pc.or_(pc.is_valid(table["conversations"]), pc.is_valid(table["text"]))),
                    ("dpo", dpo, seen_dpo, pc.is_valid(table["prompt"])),
                ):
                    part = table.filter(mask)
                    if part.num_rows == 0:
                        continue
                    keep = _first_occurrences(part.column("id").to_pylist(), seen)
                    kept = part.filter(pa.array(keep))
                    counter[kind] += part.num_rows - kept.num_rows
                    sink.write(kept)
    result = {origin: {"sft": c["sft"], "dpo": c["dpo"]} for origin, c in duplicates.items()}
    write_json(counts_path, result)
    return result
