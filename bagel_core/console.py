"""What ``bagel`` prints while it works: its own progress, one display per stage, and nothing of
the libraries it drives.

- :func:`quiet_libraries` silences the progress bars and notes of ``datasets`` ("Generating
  train split"), ``huggingface_hub`` and ``transformers`` (model loading), through their
  switches and through the environment, so worker processes (forked or spawned) inherit it.
- :func:`progress` is a stage's progress: a ``tqdm`` bar when stderr is a terminal (cleared
  when it closes, so an error that follows starts on its own line), otherwise a plain line now
  and then (:data:`FIRST_LINE_AFTER`, then every :data:`LINE_EVERY` seconds), since a log
  file has no use for carriage returns.
- :func:`log_warnings_cleanly` shows the warnings plugins log (``logging``) as one
  ``warning: ...`` line each, printed above any bar instead of into it.
"""

from __future__ import annotations

import logging
import os
import sys
import time
from typing import Any, TextIO

#: Environment switches of the libraries, read when they are imported (workers included).
LIBRARY_ENV = {
    "HF_DATASETS_DISABLE_PROGRESS_BARS": "1",
    "HF_HUB_DISABLE_PROGRESS_BARS": "1",
    # Their loggers' levels: each library sets its own when imported, over an earlier setLevel.
    "DATASETS_VERBOSITY": "error",
    "HF_HUB_VERBOSITY": "error",
    "TRANSFORMERS_VERBOSITY": "error",
    "TRANSFORMERS_NO_ADVISORY_WARNINGS": "1",
}
#: Libraries whose loggers are set to errors only.
LIBRARY_LOGGERS = ("datasets", "huggingface_hub", "transformers", "sentence_transformers", "filelock", "fsspec")
#: Seconds before a stage's first plain progress line (a short stage prints none), then between lines.
FIRST_LINE_AFTER = 15.0
LINE_EVERY = 60.0


def quiet_libraries() -> None:
    """No progress bars or info notes of the data and model libraries, in this process and the
    workers it starts (the user's own settings of these variables win)."""
    for name, value in LIBRARY_ENV.items():
        os.environ.setdefault(name, value)
    for name in LIBRARY_LOGGERS:
        logging.getLogger(name).setLevel(logging.ERROR)
    # Already imported libraries read the environment once: switch them off directly too.
    if "datasets" in sys.modules:
        sys.modules["datasets"].disable_progress_bars()
        sys.modules["datasets"].logging.set_verbosity_error()
    if "huggingface_hub" in sys.modules:
        from huggingface_hub.utils import disable_progress_bars
        from huggingface_hub.utils import logging as hub_logging

        disable_progress_bars()
        hub_logging.set_verbosity_error()
    if "transformers" in sys.modules:
        from transformers.utils import logging as hf_logging

        hf_logging.set_verbosity_error()
        hf_logging.disable_progress_bar()


def is_terminal(stream: TextIO) -> bool:
    try:
        return stream.isatty()
    except (AttributeError, ValueError):
        return False


class Progress:
    """One stage's progress; ``update(n)`` as work is done, ``note(text)`` for what it is on."""

    def __init__(self, label: str, total: int | None, unit: str, stream: TextIO) -> None:
        self.label, self.total, self.unit, self.stream = label, total, unit, stream
        self.done = 0
        self.started = time.monotonic()
        self._next = self.started + FIRST_LINE_AFTER
        self._note = ""
        self._bar: Any = None
        if is_terminal(stream):
            from tqdm.auto import tqdm

            self._bar = tqdm(desc=label, total=total, unit=f" {unit}", leave=False, file=stream, dynamic_ncols=True)

    def update(self, n: int = 1) -> None:
        self.done += n
        if self._bar is not None:
            self._bar.update(n)
            return
        now = time.monotonic()
        if now >= self._next:
            of = f"/{self.total:,}" if self.total is not None else ""
            note = f" ({self._note})" if self._note else ""
            print(
                f"{self.label}: {self.done:,}{of} {self.unit} after {now - self.started:.0f}s{note}",
                file=self.stream,
                flush=True,
            )
            self._next = now + LINE_EVERY

    def note(self, text: str) -> None:
        self._note = text
        if self._bar is not None:
            self._bar.set_postfix_str(text, refresh=True)

    def close(self) -> None:
        if self._bar is not None:
            self._bar.close()
            self._bar = None

    def __enter__(self) -> Progress:
        return self

    def __exit__(self, *exc: Any) -> None:
        self.close()


class _Silent(Progress):
    def __init__(self) -> None:  # noqa: D107 (nothing to set up)
        self.done, self._bar, self._note = 0, None, ""

    def update(self, n: int = 1) -> None:
        self.done += n

    def note(self, text: str) -> None:
        pass


def progress(
    label: str, total: int | None = None, unit: str = "items", disable: bool = False, stream: TextIO | None = None
) -> Progress:
    """The progress display of one stage (nothing when ``disable``)."""
    return _Silent() if disable else Progress(label, total, unit, stream or sys.stderr)


class _CleanHandler(logging.Handler):
    """``warning: message`` on its own line; above a live tqdm bar, not inside it."""

    def emit(self, record: logging.LogRecord) -> None:
        try:
            from tqdm import tqdm

            tqdm.write(f"{record.levelname.lower()}: {record.getMessage()}", file=sys.stderr)
        except Exception:  # a logging handler must not raise
            self.handleError(record)


def log_warnings_cleanly() -> None:
    """Route warnings logged by bagel and its plugins (any logger) to one clean line each."""
    root = logging.getLogger()
    if not any(isinstance(h, _CleanHandler) for h in root.handlers):
        handler = _CleanHandler(logging.WARNING)
        root.addHandler(handler)
