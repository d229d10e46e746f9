"""Stage 5: the final files. The rendered parquet files, the reports of dedup and
decontamination, the manifest and the dataset card are put together in a staging folder and
published into the output folder (:mod:`bagel_core.publish`); nothing else writes there."""

from __future__ import annotations

import dataclasses
import os
import shutil
from pathlib import Path
from typing import TYPE_CHECKING, Any, Callable, Optional, Sequence

from .. import card, publish
from ..context import LoadCounts
from ..health import source_warnings
from ..publish import MANIFEST  # noqa: F401 (where readers of the outputs look for it)
from ..registry import Registry, core_version
from ..report import write_mixture_chart
from ..storage import ParquetSink, atomic_path
from .conversations import CONVERSATIONS
from .decontaminate import CONTAMINATION_SCHEMA, withheld_ids, withhold_duplicates
from .dedup import REPORT as DEDUP_REPORT
from .dedup import REPORT_SCHEMA as DEDUP_REPORT_SCHEMA
from .tokens import count_tokens

if TYPE_CHECKING:
    from ..components import SpecialTokens
    from ..config import RunConfig
    from ..pipeline import Components

CARD = "README.md"
#: The mixture chart the card embeds, written by ``bagel report`` (or the run, with matplotlib).
CHART = "mixture.png"


def write_card(out: Path, manifest: dict[str, Any], location: Optional[str] = None) -> None:
    """``README.md``: the dataset card (:mod:`bagel_core.card`); ``datasets.load_dataset(out,
    NAME)`` finds every config through its YAML header."""
    text = card.render(out, manifest, location, chart=CHART if (out / CHART).exists() else None)
    with atomic_path(out / CARD) as tmp:
        tmp.write_text(text)


def build_manifest(
    config: "RunConfig",
    registry: Registry,
    chosen: "Components",
    counts: Sequence[LoadCounts],
    duplicates: dict[str, Any],
    contamination: dict[str, Any],
    rendered: dict[str, Any],
    fingerprint: str,
    tokens: "SpecialTokens",
    command: Optional[str],
) -> dict[str, Any]:
    """The manifest of a run: its configuration, components and counts by source and reason."""
    written, conversations = rendered["written"], rendered["conversations"]
    sources: dict[str, Any] = {}
    for s, c in zip(chosen.loaders, counts):
        name = s.cls.name
        dups = duplicates.get(name, {})
        flagged = sum(contamination["by_origin"].get(name, {}).values())
        sources[name] = {
            "kind": s.cls.kind,
            "priority": s.priority,
            "distribution": s.info.plugin.distribution,
            "version": s.info.plugin.version,
            "dataset_ids": list(s.cls.dataset_ids),
            "loaded": c.loaded,
            "rejected": dict(sorted(c.rejected.items())),
            "rejected_examples": dict(sorted(c.examples.items())),
            "filtered": dict(sorted(c.filtered.items())),
            "filtered_examples": dict(sorted(c.filtered_examples.items())),
            "duplicates": dups.get("sft", 0) + dups.get("dpo", 0),
            # Per deduper: items removed, and the sources of the items they duplicate.
            "dedup": {
                d: {"removed": n["sft"] + n["dpo"], "lost_to": n["lost_to"]} for d, n in dups.get("by_deduper", {}).items()
            },
            # Matched a benchmark; removed unless the run was a dry run.
            "flagged": flagged,
            "contaminated": 0 if contamination["dry_run"] else flagged,
            **s.cls.card_metadata(),
            "rows_written": {"sft": written.get(name, {}).get("sft", 0), "dpo": written.get(name, {}).get("dpo", 0), "conversations": conversations.get(name, {}).get("rows", 0)},
        }
    return {
        "bagel_version": core_version(),
        "fingerprint": fingerprint,
        "command": command,
        "config": config.to_json(),
        "special_tokens": dataclasses.asdict(tokens),
        "plugins": [
            {"name": p.name, "distribution": p.distribution, "version": p.version, "error": p.error, "blocked": p.blocked}
            for p in registry.plugins
        ],
        "formats": [f.cls.name for f in chosen.formats],
        "dedupers": [d.cls.name for d in chosen.dedupers],
        "decontaminators": [d.cls.name for d in chosen.decontaminators],
        "benchmarks": [b.cls.name for b in chosen.benchmarks],
        "components": {
            "loaders": [s.identity() | {"priority": s.priority} for s in chosen.loaders],
            "formats": [f.identity() for f in chosen.formats],
            "dedupers": [d.identity() for d in chosen.dedupers],
            "decontaminators": [d.identity() for d in chosen.decontaminators],
            "benchmarks": [b.identity() for b in chosen.benchmarks],
        },
        "sources": sources,
        "contamination": contamination,
        "warnings": source_warnings(sources),
        "totals": {
            "loaded": sum(s["loaded"] for s in sources.values()),
            "duplicates": sum(s["duplicates"] for s in sources.values()),
            "contaminated": contamination["removed"],
            "sft_rows": sum(s["rows_written"]["sft"] for s in sources.values()),
            "dpo_rows": sum(s["rows_written"]["dpo"] for s in sources.values()),
            "conversations_rows": sum(s["rows_written"]["conversations"] for s in sources.values()),
            # Plain-text items: in sft.parquet, but they have no conversation.
            "conversations_skipped_plain_text": sum(c["plain text"] for c in conversations.values()),
        },
    }


def _copy(src: Path, dest: Path) -> None:
    with atomic_path(dest) as tmp:
        shutil.copyfile(src, tmp)


def _move(src: Path, dest: Path) -> None:
    """A rename when both are on one file system (the work folder is inside the output folder
    by default: no copy of gigabytes); a copy then a delete across file systems. Never a hard
    link: a user editing an output in place would change the cache behind it."""
    try:
        os.replace(src, dest)
    except OSError:
        _copy(src, dest)
        src.unlink()


def write_outputs(out: Path, manifest: dict[str, Any], rendered: Path, dedup: Path, decontaminated: Optional[Path], tokenizer: Optional[str] = None, log: Callable[[str], None] = lambda message: None) -> None:
    """Stage the run's files, count their tokens (with ``tokenizer``), write the card, and
    publish them all into ``out``."""
    stage = publish.staging(out)
    for name in ("sft.parquet", "dpo.parquet", CONVERSATIONS):
        _move(rendered / name, stage / name)
    withheld = withheld_ids(decontaminated / "contamination.parquet") if decontaminated is not None else set()
    for name, folder, schema in (("contamination.parquet", decontaminated, CONTAMINATION_SCHEMA), (DEDUP_REPORT, dedup, DEDUP_REPORT_SCHEMA)):
        if folder is not None and (folder / name).exists() and name == DEDUP_REPORT and withheld:
            withhold_duplicates(folder / name, stage / name, withheld, schema)
        elif folder is not None and (folder / name).exists():
            _copy(folder / name, stage / name)
        else:  # an empty report says "nothing found", where a missing one would say nothing
            with ParquetSink(stage / name, schema):
                pass
    if tokenizer:
        manifest["tokens"] = count_tokens(stage, tokenizer)
    if write_mixture_chart(stage) is None:  # the card embeds it when matplotlib is installed
        log("no mixture chart in the card: matplotlib is not installed (pip install 'bagel-core[report]')")
    write_card(stage, manifest, location=str(out.resolve()))  # the card names where it will be
    publish.publish(stage, out, manifest)
