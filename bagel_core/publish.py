"""Publishing a run's outputs so the output folder is never a silent mix of two runs, and
never the loss of a file bagel did not write.

**Whose folder.** bagel publishes only into a folder that does not exist, is empty, or holds
an output bagel wrote before: a ``manifest.json`` with bagel's format marker (:data:`FORMAT`)
whose file list names plain files inside the folder. Anything else there (a user's
``README.md``, ``notes.txt``, a ``.git`` folder, a foreign ``manifest.json``) stops the run
before any data is read, naming the folder (:func:`claim`). ``--force`` publishes anyway, and
even then bagel only replaces its own file names (:data:`OUTPUTS`) and deletes only what its
own previous manifest listed: never a folder, never another name.

**Preflight.** Before the first change, every target is checked (:func:`preflight`): a folder
or other non-file where bagel writes a file (Spark's ``sft.parquet/``) and a folder bagel may
not write are one-line errors, and every new file already lies complete in the staging folder
on the same file system (see :mod:`bagel_core.stages.write` for the free-space estimate), so
the renames below need no space and cannot fail halfway for a reason known in advance.

**Publishing.** A run writes its outputs (parquet files, dataset card, manifest) into a
staging folder inside the output folder, ``OUT/.bagel-staging/PID/NAME/``. Publishing then:

1. writes the marker ``OUT/INCOMPLETE.bagel`` (naming every file bagel owns there) and removes
   the old ``manifest.json``: from here on the folder says it is incomplete and can never be
   taken as up to date;
2. renames each new file over the old one (each rename is atomic) and removes the files of the
   previous output that this run does not write (only names listed in the old manifest);
3. renames the new ``manifest.json`` into place and removes the marker.

So at every instant ``OUT`` holds the previous complete output, the new complete output, or is
marked incomplete. The manifest records every file's size, row count and content hash, and a
rerun is "up to date" only when the manifest's fingerprint matches *and* the files on disk
are the ones it describes (:func:`current_manifest`).
"""

from __future__ import annotations

import hashlib
import json
import os
import shutil
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from .storage import (
    _alive,
    is_temporary,
    read_json,
    remove_stale_temporaries,
    temporary_path,
    write_json,
)

MANIFEST = "manifest.json"

MARKER = "INCOMPLETE.bagel"
STAGING = ".bagel-staging"
#: The default work folder, inside the output folder (``--work-dir`` moves it).
WORK = ".bagel-work"
#: The lock file of a folder a run is using (:mod:`bagel_core.locks`).
LOCK = ".bagel-lock"
#: The manifest's format marker and version: a manifest without it is not bagel's.
FORMAT = "bagel-output"
FORMAT_VERSION = 1
#: Every file name a run may publish: the only names ``--force`` replaces in a foreign folder.
OUTPUTS = frozenset(
    {
        MANIFEST,
        "README.md",
        "mixture.png",
        "sft.parquet",
        "dpo.parquet",
        "conversations.parquet",
        "contamination.parquet",
        "near_duplicates.parquet",
    }
)
#: What bagel's other commands write into an output folder (``bagel report``, ``bagel export``):
#: bagel's, so not a reason to refuse the folder, and never deleted by a run.
COMPANIONS = frozenset({"report.html", "axolotl", "llama-factory"})
_MARKER_TEXT = (
    "bagel was replacing the outputs in this folder and stopped before it finished: the files\n"
    "here may come from two different runs. Run the same `bagel run` command again to finish.\n"
)
#: The marker's last line lists the files bagel owns in the folder (the old manifest is gone).
_MARKER_FILES = "bagel files: "


class OutputNotWritable(Exception):
    """The output or work folder can not be written, or is not bagel's to write; the message
    names it."""


def plain_name(name: Any) -> bool:
    """Whether a manifest's file name is a plain file name inside the folder: no path
    separator, no ``..``, not absolute, not empty."""
    return (
        isinstance(name, str)
        and name not in ("", ".", "..")
        and "/" not in name
        and "\\" not in name
        and "\0" not in name
    )


def _bagel_files(manifest: Any) -> set[str] | None:
    """The files a manifest bagel wrote lists, or ``None`` when it is not bagel's or its list is
    not plain file names. Manifests of bagel before the format marker (``bagel_version``,
    ``fingerprint`` and a hash per file) are bagel's too, so an upgrade keeps its folders."""
    if not isinstance(manifest, dict) or not isinstance(manifest.get("files"), dict):
        return None
    files = manifest["files"]
    marked = manifest.get("format") == FORMAT and isinstance(manifest.get("format_version"), int)
    legacy = (
        "format" not in manifest
        and isinstance(manifest.get("bagel_version"), str)
        and isinstance(manifest.get("fingerprint"), str)
        and all(isinstance(e, dict) and "blake2b" in e for e in files.values())
    )
    if not (marked or legacy) or not all(plain_name(n) for n in files):
        return None
    return set(files)


@dataclass
class Folder:
    """What an output folder holds, by owner (:func:`inspect`)."""

    #: Files bagel's previous output there listed: the only ones a run may delete.
    listed: set[str] = field(default_factory=set)
    #: Entries bagel did not write (a foreign ``manifest.json`` among them).
    foreign: list[str] = field(default_factory=list)
    #: Entries named like bagel's outputs that are not files (a folder ``sft.parquet/``).
    not_files: list[str] = field(default_factory=list)
    #: Rows of the previous output (``None``: no previous bagel output).
    rows: int | None = None


def _marker_files(out: Path) -> set[str] | None:
    """The files a marker left by a stopped publish names (``None``: not bagel's marker)."""
    try:
        text = (out / MARKER).read_text()
    except (OSError, UnicodeDecodeError):
        return None
    last = text.rstrip("\n").rpartition("\n")[2]
    if not text.startswith(_MARKER_TEXT):
        return None
    if not last.startswith(_MARKER_FILES):  # a marker of bagel before the list: bagel's, naming none
        return set()
    try:
        names = json.loads(last[len(_MARKER_FILES) :])
    except ValueError:
        return None
    return set(names) if isinstance(names, list) and all(plain_name(n) for n in names) else None


def inspect(out: Path, work: Path | None = None) -> Folder:
    """Sort the entries of ``out`` into bagel's and the user's. bagel's: the files its manifest
    (or its marker of a stopped publish) lists, its staging, work and lock entries, its
    temporaries, and what ``bagel report``/``bagel export`` wrote (:data:`COMPANIONS`)."""
    folder = Folder()
    if not out.is_dir():
        return folder
    listed: set[str] | None = None
    if (out / MANIFEST).exists():
        try:
            manifest = read_json(out / MANIFEST)
        except (OSError, ValueError):
            manifest = None
        listed = _bagel_files(manifest)
        if listed is not None and any(os.path.lexists(out / n) and not (out / n).is_file() for n in listed):
            listed = None  # it lists a folder: not a list of bagel's files
        if listed is not None:
            folder.rows = _rows(manifest)
    if (out / MARKER).exists():
        marked = _marker_files(out)
        if marked is None:
            folder.foreign.append(MARKER)
        listed = (listed or set()) | (marked or set())
    if listed is None and (out / MANIFEST).exists():
        folder.foreign.append(f"{MANIFEST} (not bagel's)")
    folder.listed = listed or set()
    work_name = _entry_of(out, work)
    for entry in sorted(out.iterdir(), key=lambda p: p.name):
        name = entry.name
        if name in OUTPUTS | {MARKER} and not entry.is_file():
            folder.not_files.append(name + ("/" if entry.is_dir() else ""))
        elif name in (MANIFEST, MARKER) or is_temporary(name):
            continue
        elif name in folder.listed or name in COMPANIONS or name in (STAGING, WORK, LOCK, work_name):
            continue
        else:
            folder.foreign.append(name + ("/" if entry.is_dir() else ""))
    return folder


def _entry_of(out: Path, work: Path | None) -> str | None:
    """The entry of ``out`` that holds the work folder, when ``--work-dir`` is inside it."""
    if work is None:
        return None
    try:
        relative = Path(os.path.abspath(work)).relative_to(os.path.abspath(out))
    except ValueError:
        return None
    return relative.parts[0] if relative.parts else None


def _names(items: list[str], limit: int = 5) -> str:
    return ", ".join(items[:limit]) + (f" and {len(items) - limit} more" if len(items) > limit else "")


def _not_files_error(out: Path, names: list[str]) -> OutputNotWritable:
    return OutputNotWritable(
        f"cannot publish into {out}: {_names(names)} {'is a folder or other non-file' if len(names) == 1 else 'are folders or other non-files'} "
        "where bagel writes a file; move it away (bagel never deletes a folder)"
    )


def claim(out: Path, work: Path | None = None, force: bool = False) -> Folder:
    """Check that a run may publish into ``out`` (see the module doc): a one-line
    :class:`OutputNotWritable` otherwise. Called before any data is read, and again under the
    lock just before publishing."""
    if out.exists() and not out.is_dir():
        raise OutputNotWritable(f"--out {out} is a file, not a folder")
    if work is not None and os.path.abspath(work) == os.path.abspath(
        out
    ):  # its stage folders would be foreign next time
        raise OutputNotWritable(
            f"--work-dir {work} is the output folder itself: use a folder inside it (the default {WORK}) or elsewhere"
        )
    folder = inspect(out, work)
    if folder.not_files:
        raise _not_files_error(out, folder.not_files)
    if folder.foreign and not force:
        raise OutputNotWritable(
            f"--out {out} holds files bagel did not write ({_names(folder.foreign)}): choose a new or empty folder, "
            f"or add --force to replace bagel's own file names there (nothing else is touched)"
        )
    return folder


def not_writable(folder: Path, what: str, exc: OSError) -> OutputNotWritable:
    """The one-line error of a folder that can not be made or written."""
    return OutputNotWritable(f"cannot write to the {what} {folder}: {exc.strerror or exc}")


def _check_writable(folder: Path, what: str) -> None:
    try:
        folder.mkdir(parents=True, exist_ok=True)
        probe = temporary_path(folder / "write-probe")
        probe.write_bytes(b"")
        probe.unlink()
    except OSError as exc:
        raise not_writable(folder, what, exc) from None


def prepare(out: Path | None, work: Path) -> None:
    """Check both folders can be written (before any data is read, so a read-only ``--out`` is
    not blamed on the first source) and remove what dead bagel processes left there. ``out``
    is ``None`` for a run that writes no output (``--plan``)."""
    if out is not None:
        _check_writable(out, "output folder (--out)")
    _check_writable(work, "work folder (--work-dir)")
    remove_stale_temporaries(work)
    if out is None:
        return
    remove_stale_temporaries(out, recursive=False)  # the user's own files below OUT are not ours
    root = out / STAGING
    if root.is_dir():
        for folder in root.iterdir():
            if folder.name.isdigit() and int(folder.name) != os.getpid() and not _alive(int(folder.name)):
                shutil.rmtree(folder, ignore_errors=True)


def staging(out: Path) -> Path:
    """An empty staging folder for this run's outputs, named like ``out`` (the dataset card
    names the folder it is in)."""
    stage = out / STAGING / str(os.getpid()) / (out.resolve().name or "out")
    shutil.rmtree(stage.parent, ignore_errors=True)
    stage.mkdir(parents=True)
    return stage


def file_digest(path: Path) -> dict[str, Any]:
    """Size, content hash and, for parquet, row count of one output file."""
    digest = hashlib.blake2b(digest_size=16)
    with open(path, "rb") as fh:
        for block in iter(lambda: fh.read(1 << 20), b""):
            digest.update(block)
    entry: dict[str, Any] = {"bytes": path.stat().st_size, "blake2b": digest.hexdigest()}
    if path.suffix == ".parquet":
        import pyarrow.parquet as pq

        entry["rows"] = pq.ParquetFile(path).metadata.num_rows
    return entry


def current_manifest(out: Path, fingerprint: str) -> dict[str, Any] | None:
    """The manifest of ``out`` when the folder holds a complete output of ``fingerprint``:
    no incomplete marker, and every file the manifest lists with its size, rows and hash."""
    path = out / MANIFEST
    if (out / MARKER).exists() or not path.is_file():
        return None
    try:
        manifest = read_json(path)
    except (OSError, ValueError):
        return None
    if not isinstance(manifest, dict) or manifest.get("fingerprint") != fingerprint or not _bagel_files(manifest):
        return None
    for name, expected in manifest["files"].items():
        target = out / name
        if not target.is_file() or target.stat().st_size != expected.get("bytes"):
            return None
        try:
            if file_digest(target) != expected:
                return None
        except (OSError, ValueError):  # a corrupt parquet footer, say
            return None
    return manifest


def _rows(manifest: dict[str, Any]) -> int:
    """SFT and DPO rows of an output (conversations are the SFT items again)."""
    totals = manifest.get("totals")
    if not isinstance(totals, dict):
        return 0
    return sum(v for k, v in totals.items() if k in ("sft_rows", "dpo_rows") and isinstance(v, int))


def refuse_empty(out: Path, manifest: dict[str, Any], allow_empty: bool) -> None:
    """An output without rows replaces one with rows only when asked (``--allow-empty``): an
    empty selection or a broken source must not silently empty a dataset."""
    previous = inspect(out).rows
    if _rows(manifest) == 0 and previous and not allow_empty:
        raise OutputNotWritable(
            f"this run has no rows, and --out {out} holds an output with {previous} rows: "
            "add --allow-empty to replace it with an empty output"
        )


def check_space(out: Path, needed: int) -> None:
    """Fail before staging when the file system of ``out`` has less than ``needed`` bytes free."""
    free = shutil.disk_usage(out).free
    if free < needed:
        raise OutputNotWritable(
            f"not enough space to publish into {out}: the outputs need about {needed / 1e6:.1f} MB, "
            f"{free / 1e6:.1f} MB are free; free some space or choose another --out"
        )


def preflight(out: Path, names: list[str], folder: Folder) -> list[str]:
    """Check every target of a publish before its first change; returns the files of the
    previous output to delete (listed by its manifest, not written again, still files)."""
    clash = [
        n + ("/" if (out / n).is_dir() else "")
        for n in [*names, MANIFEST, MARKER]
        if os.path.lexists(out / n) and not (out / n).is_file()
    ]
    if clash:
        raise _not_files_error(out, clash)
    if not os.access(out, os.W_OK | os.X_OK):
        raise OutputNotWritable(f"cannot write to the output folder (--out) {out}: permission denied")
    return sorted(
        n for n in folder.listed - set(names) - {MANIFEST, MARKER} if (out / n).is_file() or (out / n).is_symlink()
    )


def publish(stage: Path, out: Path, manifest: dict[str, Any], work: Path | None = None, force: bool = False) -> None:
    """Move every file of ``stage`` into ``out`` as described above; ``manifest`` gets the
    ``files`` table and is written last. ``work`` and ``force`` as for :func:`claim`."""
    names = sorted(p.name for p in stage.iterdir() if p.is_file() and p.name != MANIFEST)
    manifest["files"] = {name: file_digest(stage / name) for name in names}
    write_json(stage / MANIFEST, manifest)
    folder = claim(out, work, force)  # again: the folder may have changed while the run ran
    stale = preflight(out, names, folder)
    marker = out / MARKER
    tmp = temporary_path(marker)
    tmp.write_text(_MARKER_TEXT + _MARKER_FILES + json.dumps(sorted(folder.listed | set(names) | {MANIFEST})) + "\n")
    os.replace(tmp, marker)
    (out / MANIFEST).unlink(missing_ok=True)
    for name in names:
        os.replace(stage / name, out / name)
    for name in stale:
        (out / name).unlink(missing_ok=True)
    os.replace(stage / MANIFEST, out / MANIFEST)
    marker.unlink()
    shutil.rmtree(stage.parent, ignore_errors=True)
    _remove_if_empty(out / STAGING)


def _remove_if_empty(folder: Path) -> None:
    try:
        folder.rmdir()
    except OSError:
        pass
