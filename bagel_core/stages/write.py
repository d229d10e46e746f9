"""Stage 5: the manifest and the dataset card that go beside the parquet files."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from ..storage import atomic_path, write_json

MANIFEST = "manifest.json"
CARD = "README.md"


def write_manifest(out: Path, manifest: dict[str, Any]) -> None:
    write_json(out / MANIFEST, manifest)


def _table(rows: list[list[Any]], header: list[str]) -> str:
    lines = ["| " + " | ".join(header) + " |", "| " + " | ".join("---" for _ in header) + " |"]
    lines += ["| " + " | ".join(str(c) for c in row) + " |" for row in rows]
    return "\n".join(lines)


def _warnings(warnings: list[str]) -> str:
    if not warnings:
        return ""
    return "## Warnings\n\n" + "".join(f"- **{w}**\n" for w in warnings) + "\n"


def write_card(out: Path, manifest: dict[str, Any]) -> None:
    """A README.md whose YAML header lets ``datasets.load_dataset(out)`` find both configs."""
    sources = manifest["sources"]
    rows = [
        [
            name, s["kind"], s["priority"], s["loaded"], sum(s["rejected"].values()), sum(s["filtered"].values()),
            s["duplicates"], s["contaminated"], s["rows_written"]["sft"], s["rows_written"]["dpo"],
        ]
        for name, s in sources.items()
    ]
    dedup_rows = [
        [name, deduper, d["removed"], ", ".join(f"{kept} {n}" for kept, n in d["lost_to"].items())]
        for name, s in sources.items() for deduper, d in s.get("dedup", {}).items()
    ]
    contamination = manifest["contamination"]
    bench_rows = [[b, n] for b, n in sorted(contamination.get("by_benchmark", {}).items())]
    config = manifest["config"]
    text = f"""---
configs:
- config_name: sft
  data_files:
  - split: train
    path: sft.parquet
  default: true
- config_name: dpo
  data_files:
  - split: train
    path: dpo.parquet
- config_name: conversations
  data_files:
  - split: train
    path: conversations.parquet
tags:
- bagel
---
# bagel dataset

Composed by [bagel](https://github.com/) {manifest["bagel_version"]} with seed {config["seed"]}
into the prompt formats {", ".join(manifest["formats"]) or "none"}.

- `sft`: {manifest["totals"]["sft_rows"]} rows (`id`, `source`, `format`, `input`, `output`); train on `output` only.
- `dpo`: {manifest["totals"]["dpo_rows"]} rows (`id`, `source`, `format`, `prompt`, `chosen`, `rejected`).
- `contamination.parquet`: {contamination.get("flagged", 0)} items matched benchmark test sets
  ({"reported only (dry run)" if contamination.get("dry_run") else "removed"}); decontaminators: {", ".join(manifest["decontaminators"]) or "none"}.

```python
from datasets import load_dataset
sft = load_dataset("{out.name}", "sft", split="train")
```

{_warnings(manifest.get("warnings", []))}## Sources

{_table(rows, ["source", "kind", "priority", "loaded", "rejected", "filtered", "duplicates", "contaminated", "sft rows", "dpo rows"])}

## Duplicates by deduper

Dedupers, in order: {", ".join(manifest.get("dedupers", [])) or "none"}. Within a cluster of duplicates the item
of the highest-priority source is kept; `near_duplicates.parquet` lists each removed item beside
the item kept in its place.

{_table(dedup_rows, ["source", "deduper", "items removed", "lost to (source of the kept item)"]) if dedup_rows else "No duplicates removed."}

## Contamination by benchmark

{_table(bench_rows, ["benchmark", "items matched (reported only, dry run)" if contamination.get("dry_run") else "items removed"]) if bench_rows else "No benchmark matches."}

`manifest.json` holds the full configuration, plugin versions and counts by reason.
"""
    with atomic_path(out / CARD) as tmp:
        tmp.write_text(text)
