"""``manifest.json``: what an output folder holds and how it was made, typed.

The write stage builds a :class:`Manifest` (:func:`bagel_core.stages.write.build_manifest`);
the card, the report, the CLI's summary, ``bagel export``, ``bagel push-to-hub`` and the
trainers read one with :func:`read_manifest`. Its JSON is the contract between them, and with
the user: :meth:`Manifest.to_json` writes the keys in a fixed order, :meth:`Manifest.from_json`
reads this version and every earlier one (manifests of bagel before the format marker, and
before ``command``, ``warnings`` or ``dedupers`` existed, read with those empty) and refuses a
newer format version in one line, rather than misreading it.
"""

from __future__ import annotations

import warnings
from dataclasses import asdict, dataclass, field, fields
from pathlib import Path
from typing import Any

#: The file name in an output folder.
MANIFEST = "manifest.json"
#: The format marker and version: a manifest without the marker is not bagel's, unless it has
#: the shape of bagel's manifests before the marker (:mod:`bagel_core.publish`).
FORMAT = "bagel-output"
#: Bumped when a field changes meaning or a reader could misread a new manifest.
FORMAT_VERSION = 1


class ManifestError(ValueError):
    """A manifest bagel cannot read: not JSON, not bagel's, a newer format, a field missing or
    of the wrong type; the message names the file and the field."""


class NewerManifest(ManifestError):
    """A manifest of a newer format version than this bagel reads."""


def _need(data: Any, key: str, kind: type | tuple[type, ...], where: str) -> Any:
    value = data.get(key) if isinstance(data, dict) else None
    if not isinstance(value, kind) or (isinstance(value, bool) and kind is int):
        raise ManifestError(f"{where}: {key!r} is missing or not {_kind_name(kind)}")
    return value


def _kind_name(kind: type | tuple[type, ...]) -> str:
    names = [k.__name__ for k in (kind if isinstance(kind, tuple) else (kind,))]
    return {"dict": "a table", "list": "a list", "str": "text", "int": "a number"}.get(names[0], " or ".join(names))


@dataclass
class RowsWritten:
    """Rows of one loader in each output file."""

    sft: int = 0
    dpo: int = 0
    conversations: int = 0


@dataclass
class DedupCounts:
    """What one deduper removed of a loader's items, and the loaders of the items it kept instead."""

    removed: int = 0
    lost_to: dict[str, int] = field(default_factory=dict)


#: The keys of a loader's entry the engine writes; every other key is the component's
#: ``card_metadata()`` (licence, terms, citation, content warning, and any a plugin adds).
_ENGINE_KEYS = (
    "kind",
    "priority",
    "distribution",
    "version",
    "dataset_ids",
    "loaded",
    "rejected",
    "rejected_examples",
    "filtered",
    "filtered_examples",
    "duplicates",
    "dedup",
    "flagged",
    "contaminated",
)


@dataclass
class LoaderEntry:
    """One source or DPO builder of a run: where it comes from and its counts by reason."""

    kind: str
    priority: int
    distribution: str | None
    version: str | None
    dataset_ids: list[str]
    loaded: int
    rejected: dict[str, int]
    rejected_examples: dict[str, Any]
    filtered: dict[str, int]
    filtered_examples: dict[str, Any]
    duplicates: int
    #: Per deduper (pseudo-dedupers ``dpo-only`` and ``shared-ids`` included).
    dedup: dict[str, DedupCounts]
    #: Items that matched a benchmark; ``contaminated`` of them were removed (none in a dry run).
    flagged: int
    contaminated: int
    #: The component's ``card_metadata()``: ``license``, ``terms``, ``citation``, ``content_warning``.
    metadata: dict[str, Any]
    languages: list[str]
    rows_written: RowsWritten

    @property
    def license(self) -> str | None:
        return self.metadata.get("license")

    @property
    def terms(self) -> str | None:
        return self.metadata.get("terms")

    @property
    def citation(self) -> str | None:
        return self.metadata.get("citation")

    @property
    def content_warning(self) -> str | None:
        return self.metadata.get("content_warning")

    def counts(self) -> list[int]:
        """Loaded, rejected, filtered, duplicates, contaminated, SFT rows, DPO rows: the
        per-source line of the CLI's summary, the card and the report."""
        return [
            self.loaded,
            sum(self.rejected.values()),
            sum(self.filtered.values()),
            self.duplicates,
            self.contaminated,
            self.rows_written.sft,
            self.rows_written.dpo,
        ]

    def to_json(self) -> dict[str, Any]:
        data = {f.name: getattr(self, f.name) for f in fields(self) if f.name in _ENGINE_KEYS}
        data["dedup"] = {name: asdict(d) for name, d in self.dedup.items()}
        return data | self.metadata | {"languages": self.languages, "rows_written": asdict(self.rows_written)}

    @classmethod
    def from_json(cls, data: Any, where: str) -> LoaderEntry:
        if not isinstance(data, dict):
            raise ManifestError(f"{where}: not a table")
        written = data.get("rows_written") or {}
        return cls(
            kind=_need(data, "kind", str, where),
            priority=data.get("priority", 0),
            distribution=data.get("distribution"),
            version=data.get("version"),
            dataset_ids=list(data.get("dataset_ids", [])),
            loaded=_need(data, "loaded", int, where),
            rejected=dict(data.get("rejected", {})),
            rejected_examples=dict(data.get("rejected_examples", {})),
            filtered=dict(data.get("filtered", {})),
            filtered_examples=dict(data.get("filtered_examples", {})),
            duplicates=data.get("duplicates", 0),
            dedup={
                n: DedupCounts(d.get("removed", 0), dict(d.get("lost_to", {})))
                for n, d in data.get("dedup", {}).items()
            },
            flagged=data["flagged"] if "flagged" in data else data.get("contaminated", 0),
            contaminated=data.get("contaminated", 0),
            metadata={k: v for k, v in data.items() if k not in (*_ENGINE_KEYS, "languages", "rows_written")},
            languages=list(data.get("languages", [])),
            rows_written=RowsWritten(written.get("sft", 0), written.get("dpo", 0), written.get("conversations", 0)),
        )


@dataclass
class Totals:
    """The run's counts over all loaders."""

    loaded: int = 0
    duplicates: int = 0
    contaminated: int = 0
    sft_rows: int = 0
    dpo_rows: int = 0
    conversations_rows: int = 0
    #: Plain-text items: in ``sft.parquet``, but they have no conversation.
    conversations_skipped_plain_text: int = 0


@dataclass
class PluginEntry:
    """An installed plugin, loaded or not (``error``, ``blocked``)."""

    name: str
    distribution: str | None
    version: str | None
    error: str | None = None
    blocked: bool = False


@dataclass
class ComponentsUsed:
    """Each selected component's identity (kind, name, distribution, version, options as set)."""

    loaders: list[dict[str, Any]] = field(default_factory=list)
    formats: list[dict[str, Any]] = field(default_factory=list)
    dedupers: list[dict[str, Any]] = field(default_factory=list)
    decontaminators: list[dict[str, Any]] = field(default_factory=list)
    benchmarks: list[dict[str, Any]] = field(default_factory=list)


@dataclass
class Manifest:
    """An output folder's ``manifest.json``. Secrets are redacted and local paths relative (the
    write stage sees to it: :mod:`bagel_core.privacy`); ``files`` is set when it is published."""

    bagel_version: str
    #: Fingerprint of everything the output depends on: an equal one means the same output.
    fingerprint: str
    #: The command line that made it (``bagel run ...``), runnable; ``None`` from the API.
    command: str | None
    #: The run's settings (``RunConfig``) and every component table, as JSON.
    config: dict[str, Any]
    #: BOS/EOS the formats wrote (``bos``, ``eos``, ``tokenizer``).
    special_tokens: dict[str, Any]
    plugins: list[PluginEntry]
    formats: list[str]
    #: ``None`` in manifests of bagel before dedupers were a kind of plugin.
    dedupers: list[str] | None
    decontaminators: list[str]
    benchmarks: list[str]
    components: ComponentsUsed
    #: Per loader name, in load order (highest priority first).
    sources: dict[str, LoaderEntry]
    #: The decontaminate stage's counts: ``flagged``, ``removed``, ``dry_run``, ``by_origin``,
    #: ``by_benchmark``, ``benchmarks``.
    contamination: dict[str, Any]
    #: What the run found suspicious (a source yielding nothing, ...).
    warnings: list[str]
    totals: Totals
    #: Token counts per source and format, with ``--tokenizer``.
    tokens: dict[str, Any] | None = None
    #: Size, rows and hash of every published file.
    files: dict[str, dict[str, Any]] | None = None
    format: str = FORMAT
    format_version: int = FORMAT_VERSION

    def to_json(self) -> dict[str, Any]:
        """The JSON of ``manifest.json``, keys in their published order."""
        data: dict[str, Any] = {
            "format": self.format,
            "format_version": self.format_version,
            "bagel_version": self.bagel_version,
            "fingerprint": self.fingerprint,
            "command": self.command,
            "config": self.config,
            "special_tokens": self.special_tokens,
            "plugins": [asdict(p) for p in self.plugins],
            "formats": self.formats,
            **({} if self.dedupers is None else {"dedupers": self.dedupers}),
            "decontaminators": self.decontaminators,
            "benchmarks": self.benchmarks,
            "components": asdict(self.components),
            "sources": {name: s.to_json() for name, s in self.sources.items()},
            "contamination": self.contamination,
            "warnings": self.warnings,
            "totals": asdict(self.totals),
        }
        if self.tokens is not None:
            data["tokens"] = self.tokens
        if self.files is not None:
            data["files"] = self.files
        return data

    def __getitem__(self, key: str) -> Any:
        """Deprecated: ``manifest["totals"]`` as when ``RunResult.manifest`` was a dict; read
        the attributes, or ``to_json()`` for the dict. Removed in 0.3."""
        warnings.warn(
            "RunResult.manifest is a bagel_core.manifest.Manifest: read its attributes "
            f"(manifest.{key}) or manifest.to_json()[{key!r}]; indexing it is deprecated",
            DeprecationWarning,
            stacklevel=2,
        )
        return self.to_json()[key]

    @classmethod
    def from_json(cls, data: Any, where: str = MANIFEST) -> Manifest:
        """Read a manifest of this format version or an earlier one; ``where`` names it in errors."""
        if not isinstance(data, dict):
            raise ManifestError(f"{where}: not a bagel manifest (not a JSON table)")
        marker = data.get("format", FORMAT)
        if marker != FORMAT:
            raise ManifestError(f"{where}: not a bagel manifest (format {marker!r})")
        version = data.get("format_version", 0)  # 0: before the marker
        if not isinstance(version, int) or isinstance(version, bool):
            raise ManifestError(f"{where}: 'format_version' is not a number")
        if version > FORMAT_VERSION:
            raise NewerManifest(
                f"{where}: manifest format version {version} is newer than this bagel-core reads "
                f"({FORMAT_VERSION}); upgrade bagel-core"
            )
        sources = _need(data, "sources", dict, where)
        totals = data.get("totals") or {}
        components = data.get("components") or {}
        return cls(
            bagel_version=_need(data, "bagel_version", str, where),
            fingerprint=_need(data, "fingerprint", str, where),
            command=data.get("command"),
            config=dict(data.get("config") or {}),
            special_tokens=dict(data.get("special_tokens") or {}),
            plugins=[
                PluginEntry(
                    p.get("name"), p.get("distribution"), p.get("version"), p.get("error"), p.get("blocked", False)
                )
                for p in data.get("plugins", [])
            ],
            formats=list(data.get("formats", [])),
            dedupers=list(data["dedupers"]) if isinstance(data.get("dedupers"), list) else None,
            decontaminators=list(data.get("decontaminators", [])),
            benchmarks=list(data.get("benchmarks", [])),
            components=ComponentsUsed(**{f.name: list(components.get(f.name, [])) for f in fields(ComponentsUsed)}),
            sources={name: LoaderEntry.from_json(s, f"{where}: source {name!r}") for name, s in sources.items()},
            contamination=dict(data.get("contamination") or {}),
            warnings=list(data.get("warnings", [])),
            totals=Totals(**{f.name: totals.get(f.name, 0) for f in fields(Totals)}),
            tokens=data.get("tokens"),
            files=data.get("files"),
            format=FORMAT,
            format_version=version,
        )


def read_manifest(folder: str | Path) -> Manifest:
    """The manifest of the output folder ``folder``; a missing, unreadable or newer one is a
    :class:`ManifestError` naming it."""
    import json

    path = Path(folder) / MANIFEST
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise ManifestError(
            f"{folder} is not a finished bagel output (no {MANIFEST}); run `bagel run --out {folder}` first"
        ) from None
    except (UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise ManifestError(f"{path}: not valid JSON ({exc})") from None
    return Manifest.from_json(data, str(path))
