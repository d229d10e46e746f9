"""One run per folder: an exclusive lock on the output folder and on the work folder.

Two runs publishing into one ``OUT`` could leave one's manifest beside the other's card, and
two runs sharing a work folder clear each other's temporaries. Each run holds an ``fcntl``
lock on ``FOLDER/.bagel-lock`` for as long as it uses the folder; the file holds the holder's
PID, so the second run's one-line error names it. The kernel drops the lock when its process
dies (even by ``kill -9``), so a stale lock file of a dead run is simply taken over. The file
itself stays: deleting a lock file races with a run that has just opened it.
"""

from __future__ import annotations

import fcntl
import os
from collections.abc import Iterator
from contextlib import ExitStack, contextmanager
from pathlib import Path

from .publish import LOCK, OutputNotWritable, not_writable


class FolderInUse(OutputNotWritable):
    """Another live run holds the folder; the message names it and the run's PID."""


def _holder(fd: int) -> str:
    try:
        text = os.pread(fd, 32, 0).decode(errors="replace").strip()
    except OSError:
        text = ""
    return f"PID {text}" if text.isdigit() else "PID unknown"


@contextmanager
def hold(folder: Path, what: str) -> Iterator[None]:
    """Hold the lock of ``folder`` (created if missing) for the block; ``what`` names the folder
    in the error (``"output folder (--out)"``)."""
    try:
        folder.mkdir(parents=True, exist_ok=True)
        fd = os.open(folder / LOCK, os.O_RDWR | os.O_CREAT, 0o644)
    except OSError as exc:
        raise not_writable(folder, what, exc) from None
    try:
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            raise FolderInUse(
                f"the {what} {folder} is in use by another bagel run ({_holder(fd)}); wait for it to finish or choose another folder"
            ) from None
        os.ftruncate(fd, 0)
        os.pwrite(fd, f"{os.getpid()}\n".encode(), 0)
        yield
    finally:
        os.close(fd)  # releases the lock


@contextmanager
def hold_all(*folders: tuple[Path, str]) -> Iterator[None]:
    """Hold the locks of several ``(folder, what)`` at once (the same folder once)."""
    with ExitStack() as stack:
        seen: set[str] = set()
        for folder, what in folders:
            key = os.path.realpath(folder)
            if key not in seen:
                seen.add(key)
                stack.enter_context(hold(folder, what))
        yield
