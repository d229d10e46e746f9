"""Progress bars of the model libraries, switched off while bagel loads or distils a model."""

from __future__ import annotations

import io
from collections.abc import Iterator
from contextlib import contextmanager, redirect_stderr


@contextmanager
def library_bars_off() -> Iterator[None]:
    """No progress bars of transformers or model2vec while distilling or loading a model: they
    would print under ``bagel run -q`` and break one-line errors; the stage's own progress
    covers the wait. (model2vec's tqdm takes no switch, so its stream is swapped; errors still
    raise.)"""
    from transformers.utils import logging as hf_logging

    was_enabled = hf_logging.is_progress_bar_enabled()
    hf_logging.disable_progress_bar()
    try:
        with redirect_stderr(io.StringIO()):
            yield
    finally:
        if was_enabled:
            hf_logging.enable_progress_bar()
