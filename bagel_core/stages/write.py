"""Stage 5: the final files. The rendered parquet files, the reports of dedup and
decontamination, the manifest and the dataset card are put together in a staging folder and
published into the output folder (:mod:`bagel_core.publish`); nothing else writes there."""

from __future__ import annotations

import dataclasses
import os
import shutil
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

from .. import card, privacy, publish
from ..context import LoadCounts
from ..health import source_warnings
from ..options import redact
from ..registry import TABLES, Registry, core_version
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
    from ..pipeline import Components, Selected

CARD = "README.md"
#: The mixture chart the card embeds, written by ``bagel report`` (or the run, with matplotlib).
CHART = "mixture.png"


def write_card(out: Path, manifest: dict[str, Any], location: str | None = None, final: Path | None = None) -> None:
    """``README.md``: the dataset card (:mod:`bagel_core.card`); ``datasets.load_dataset(out,
    NAME)`` finds every config through its YAML header."""
    text = card.render(out, manifest, location, chart=CHART if (out / CHART).exists() else None, final=final)
    with atomic_path(out / CARD) as tmp:
        tmp.write_text(text)


def build_manifest(
    config: RunConfig,
    registry: Registry,
    chosen: Components,
    counts: Sequence[LoadCounts],
    duplicates: dict[str, Any],
    contamination: dict[str, Any],
    rendered: dict[str, Any],
    fingerprint: str,
    tokens: SpecialTokens,
    command: str | None,
) -> dict[str, Any]:
    """The manifest of a run: its configuration, components and counts by source and reason;
    secrets redacted and local paths written relative to OUT or as ``~`` (:mod:`bagel_core.privacy`)."""
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
                d: {"removed": n["sft"] + n["dpo"], "lost_to": n["lost_to"]}
                for d, n in dups.get("by_deduper", {}).items()
            },
            # Matched a benchmark; removed unless the run was a dry run.
            "flagged": flagged,
            "contaminated": 0 if contamination["dry_run"] else flagged,
            **s.cls.card_metadata(),
            "languages": list(s.cls.languages),
            "rows_written": {
                "sft": written.get(name, {}).get("sft", 0),
                "dpo": written.get(name, {}).get("dpo", 0),
                "conversations": conversations.get(name, {}).get("rows", 0),
            },
        }
    table_of = {k.name: table for table, k in TABLES.items()}
    options_of = {
        f"{table_of[kind]}.{name}": registry.get(kind, name).cls.Options
        for kind, tables in config.options.items()
        for name in tables
    }
    selected: list[Selected[Any]] = [
        *chosen.loaders,
        *chosen.formats,
        *chosen.dedupers,
        *chosen.decontaminators,
        *chosen.benchmarks,
    ]
    options_of.update({f"{table_of[s.cls.kind]}.{s.cls.name}": s.cls.Options for s in selected})
    settings = config.to_json()
    settings["options"] = {
        kind: {name: redact(table, options_of[f"{table_of[kind]}.{name}"]) for name, table in tables.items()}
        for kind, tables in settings["options"].items()
    }

    def identity(s: Selected, **extra: Any) -> dict[str, Any]:
        entry = s.identity() | extra
        return entry | {"options": redact(entry["options"], s.cls.Options)}

    manifest = {
        "format": publish.FORMAT,  # what tells bagel's manifests from anyone else's
        "format_version": publish.FORMAT_VERSION,
        "bagel_version": core_version(),
        "fingerprint": fingerprint,
        "command": None,  # below
        "config": settings,
        "special_tokens": dataclasses.asdict(tokens),
        "plugins": [
            {
                "name": p.name,
                "distribution": p.distribution,
                "version": p.version,
                "error": p.error,
                "blocked": p.blocked,
            }
            for p in registry.plugins
        ],
        "formats": [f.cls.name for f in chosen.formats],
        "dedupers": [d.cls.name for d in chosen.dedupers],
        "decontaminators": [d.cls.name for d in chosen.decontaminators],
        "benchmarks": [b.cls.name for b in chosen.benchmarks],
        "components": {
            "loaders": [identity(s, priority=s.priority) for s in chosen.loaders],
            "formats": [identity(f) for f in chosen.formats],
            "dedupers": [identity(d) for d in chosen.dedupers],
            "decontaminators": [identity(d) for d in chosen.decontaminators],
            "benchmarks": [identity(b) for b in chosen.benchmarks],
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
    # Published and uploaded: no secrets (above) and no local paths (the home folder, OUT itself).
    manifest = privacy.public(manifest, config.out)
    # The command line stays runnable: its paths as typed, but secrets redacted and home as ~.
    manifest["command"] = (
        privacy.command_line(command, lambda key: privacy.secret_key(key, options_of)) if command else command
    )
    return manifest


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


#: Room for the files written in the staging folder itself (card, manifest, chart).
_SMALL_FILES = 256 << 10


def _space_needed(out: Path, moved: list[Path], copied: list[Path]) -> int:
    """Bytes the staging folder will take in ``out``: the copied files, the moved ones when the
    work folder is on another file system (a rename there takes no space), and the small ones."""
    other_device = bool(moved) and os.stat(moved[0].parent).st_dev != os.stat(out).st_dev
    return sum(p.stat().st_size for p in [*copied, *(moved if other_device else [])] if p.exists()) + _SMALL_FILES


def write_outputs(
    out: Path,
    manifest: dict[str, Any],
    rendered: Path,
    dedup: Path,
    decontaminated: Path | None,
    tokenizer: str | None = None,
    log: Callable[[str], None] = lambda message: None,
    num_proc: int = 1,
    work: Path | None = None,
    force: bool = False,
    allow_empty: bool = False,
) -> None:
    """Stage the run's files, count their tokens (with ``tokenizer``), write the card, and
    publish them all into ``out`` (``work``, ``force``, ``allow_empty``: see
    :func:`bagel_core.publish.publish` and :func:`bagel_core.publish.refuse_empty`)."""
    publish.refuse_empty(out, manifest, allow_empty)
    moved = [rendered / name for name in ("sft.parquet", "dpo.parquet", CONVERSATIONS)]
    reports = [
        ("contamination.parquet", decontaminated, CONTAMINATION_SCHEMA),
        (DEDUP_REPORT, dedup, DEDUP_REPORT_SCHEMA),
    ]
    publish.check_space(
        out, _space_needed(out, moved, [folder / name for name, folder, _ in reports if folder is not None])
    )
    stage = publish.staging(out)
    for path in moved:
        _move(path, stage / path.name)
    withheld = withheld_ids(decontaminated / "contamination.parquet") if decontaminated is not None else set()
    for name, folder, schema in reports:
        if folder is not None and (folder / name).exists() and name == DEDUP_REPORT and withheld:
            withhold_duplicates(folder / name, stage / name, withheld, schema)
        elif folder is not None and (folder / name).exists():
            _copy(folder / name, stage / name)
        else:  # an empty report says "nothing found", where a missing one would say nothing
            with ParquetSink(stage / name, schema):
                pass
    if tokenizer:
        manifest["tokens"] = privacy.public(
            count_tokens(stage, tokenizer, num_proc), out
        )  # names the tokenizer: maybe a local path
    if write_mixture_chart(stage) is None:  # the card embeds it when matplotlib is installed
        log("no mixture chart in the card: matplotlib is not installed (pip install 'bagel-core[report]')")
    write_card(stage, manifest, final=out)  # the card names the folder it will be, by name
    publish.publish(stage, out, manifest, work, force)
