"""Publishing a run's outputs so the output folder is never a silent mix of two runs.

A run writes its outputs (parquet files, dataset card, manifest) into a staging folder inside
the output folder, ``OUT/.bagel-staging/PID/NAME/``, on the same file system. Publishing then:

1. writes the marker ``OUT/INCOMPLETE.bagel`` and removes the old ``manifest.json``: from here
   on the folder says it is incomplete and can never be taken as up to date;
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
import os
import shutil
from pathlib import Path
from typing import Any, Optional

from .storage import (
    _alive,
    read_json,
    remove_stale_temporaries,
    temporary_path,
    write_json,
)

MANIFEST = "manifest.json"

MARKER = "INCOMPLETE.bagel"
STAGING = ".bagel-staging"
_MARKER_TEXT = (
    "bagel was replacing the outputs in this folder and stopped before it finished: the files\n"
    "here may come from two different runs. Run the same `bagel run` command again to finish.\n"
)


class OutputNotWritable(Exception):
    """The output or work folder can not be written; the message names it."""


def _check_writable(folder: Path, what: str) -> None:
    try:
        folder.mkdir(parents=True, exist_ok=True)
        probe = temporary_path(folder / "write-probe")
        probe.write_bytes(b"")
        probe.unlink()
    except OSError as exc:
        raise OutputNotWritable(f"cannot write to the {what} {folder}: {exc.strerror or exc}") from None


def prepare(out: Optional[Path], work: Path) -> None:
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


def current_manifest(out: Path, fingerprint: str) -> Optional[dict[str, Any]]:
    """The manifest of ``out`` when the folder holds a complete output of ``fingerprint``:
    no incomplete marker, and every file the manifest lists with its size, rows and hash."""
    path = out / MANIFEST
    if (out / MARKER).exists() or not path.is_file():
        return None
    try:
        manifest = read_json(path)
    except (OSError, ValueError):
        return None
    files = manifest.get("files")
    if manifest.get("fingerprint") != fingerprint or not isinstance(files, dict) or not files:
        return None
    for name, expected in files.items():
        target = out / name
        if not target.is_file() or target.stat().st_size != expected.get("bytes"):
            return None
        try:
            if file_digest(target) != expected:
                return None
        except (OSError, ValueError):  # a corrupt parquet footer, say
            return None
    return manifest


def publish(stage: Path, out: Path, manifest: dict[str, Any]) -> None:
    """Move every file of ``stage`` into ``out`` as described above; ``manifest`` gets the
    ``files`` table and is written last."""
    names = sorted(p.name for p in stage.iterdir() if p.is_file() and p.name != MANIFEST)
    manifest["files"] = {name: file_digest(stage / name) for name in names}
    write_json(stage / MANIFEST, manifest)
    old = _old_files(out)
    marker = out / MARKER
    tmp = temporary_path(marker)
    tmp.write_text(_MARKER_TEXT)
    os.replace(tmp, marker)
    (out / MANIFEST).unlink(missing_ok=True)
    for name in names:
        os.replace(stage / name, out / name)
    for name in old - set(names) - {MANIFEST, MARKER}:
        (out / name).unlink(missing_ok=True)
    os.replace(stage / MANIFEST, out / MANIFEST)
    marker.unlink()
    shutil.rmtree(stage.parent, ignore_errors=True)
    _remove_if_empty(out / STAGING)


def _old_files(out: Path) -> set[str]:
    """Names of the files the previous output in ``out`` listed (only those are bagel's)."""
    try:
        files = read_json(out / MANIFEST).get("files", {})
    except (OSError, ValueError, AttributeError):
        return set()
    return {name for name in files if isinstance(name, str) and "/" not in name and name not in ("", ".", "..")}


def _remove_if_empty(folder: Path) -> None:
    try:
        folder.rmdir()
    except OSError:
        pass
