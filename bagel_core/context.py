"""The context a source, DPO builder or benchmark set receives while loading."""

from __future__ import annotations

import random
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Callable, Iterable, Iterator, Optional, Sequence, TypeVar

from . import rng
from .data import DataAccess
from .records import Record

T = TypeVar("T")

# What a malformed upstream row raises inside convert(); anything else is a plugin bug.
ROW_ERRORS = (KeyError, IndexError, TypeError, ValueError, AttributeError)


@dataclass
class LoadCounts:
    """What happened to a component's rows."""

    #: Records that passed validation and went on to dedup.
    loaded: int = 0
    #: Records or rows rejected as malformed, by reason.
    rejected: Counter = field(default_factory=Counter)
    #: Rows dropped on purpose by the component's filters (refusals, caps, ...), by reason.
    filtered: Counter = field(default_factory=Counter)

    def as_dict(self) -> dict[str, Any]:
        return {"loaded": self.loaded, "rejected": dict(self.rejected), "filtered": dict(self.filtered)}

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> "LoadCounts":
        return cls(data["loaded"], Counter(data["rejected"]), Counter(data["filtered"]))


def row_error_reason(exc: BaseException) -> str:
    """A stable, readable reason for a row that made ``convert`` raise."""
    if isinstance(exc, KeyError):
        return f"missing field {exc.args[0]!r}" if exc.args else "missing field"
    if isinstance(exc, (TypeError, AttributeError)):
        return "wrong type"
    return "bad value"


class LoadContext:
    """Data access, deterministic randomness and counters for one component.

    Example inside a source::

        def rows(self, ctx):
            return ctx.load_dataset("allenai/ai2_arc", data_files={"train": "ARC-Challenge/train-*"})

        def convert(self, row, ctx):
            if ctx.coin(row["id"], "suffix", 0.5):
                ...
    """

    def __init__(self, component: str, seed: int, data: DataAccess, options: Any = None, quiet: bool = True) -> None:
        self.component = component
        self.seed = seed
        self.data = data
        self.options = options
        self.quiet = quiet
        self.counts = LoadCounts()

    # -- data -------------------------------------------------------------------------------
    @property
    def sample(self) -> bool:
        """True under ``--sample``: data comes from the samples the plugin ships."""
        return self.data.sample

    def load_dataset(self, dataset_id: str, name: Optional[str] = None, split: str = "train", data_files: Any = None, **kwargs: Any):
        """A ``datasets.Dataset`` of the upstream data (see :class:`bagel_core.data.DataAccess`)."""
        return self.data.load_dataset(dataset_id, name=name, split=split, data_files=data_files, **kwargs)

    def iter_rows(self, rows: Iterable[Any], batch_size: int = 1000) -> Iterator[dict]:
        """The rows of ``rows`` as dicts. A ``datasets.Dataset`` is read in batches, several
        times faster than iterating it row by row; any other iterable is passed through."""
        if not (hasattr(rows, "iter") and hasattr(rows, "column_names")):
            yield from rows
            return
        for batch in rows.iter(batch_size=batch_size):
            keys = list(batch)
            for values in zip(*batch.values()):
                yield dict(zip(keys, values))

    def dataset_file(self, dataset_id: str, filename: str, url: Optional[str] = None) -> Path:
        """The path of one upstream file (for raw files ``datasets`` does not parse)."""
        return self.data.file(dataset_id, filename, url=url)

    # -- randomness -------------------------------------------------------------------------
    def uniform(self, key: str, purpose: str) -> float:
        return rng.uniform(self.seed, key, f"{self.component}:{purpose}")

    def coin(self, key: str, purpose: str, p: float) -> bool:
        return rng.coin(self.seed, key, f"{self.component}:{purpose}", p)

    def choice(self, key: str, purpose: str, options: Sequence[T]) -> T:
        return rng.choice(self.seed, key, f"{self.component}:{purpose}", options)

    def generator(self, key: str, purpose: str) -> random.Random:
        return rng.generator(self.seed, key, f"{self.component}:{purpose}")

    def sample_keys(self, keys: Iterable[str], n: int, purpose: str) -> set[str]:
        return rng.sample_keys(keys, n, self.seed, f"{self.component}:{purpose}")

    def bottom_k(self, n: int, purpose: str) -> "rng.BottomK":
        """A streamed sample of at most ``n`` items, the keys :meth:`sample_keys` would pick."""
        return rng.BottomK(n, self.seed, f"{self.component}:{purpose}")

    def stratified_sample(self, keys_by_stratum: dict[str, list[str]], n: int, purpose: str) -> set[str]:
        return rng.stratified_sample(keys_by_stratum, n, self.seed, f"{self.component}:{purpose}")

    # -- counting ---------------------------------------------------------------------------
    def filter(self, reason: str, n: int = 1) -> None:
        """Count ``n`` rows dropped on purpose (a filter or cap), under ``reason``."""
        self.counts.filtered[str(reason)] += n

    def reject(self, reason: str, n: int = 1) -> None:
        """Count ``n`` malformed upstream rows under ``reason``."""
        self.counts.rejected[str(reason)] += n

    def convert_row(self, convert: Callable[[Any, "LoadContext"], Any], row: Any) -> list[Record]:
        """``convert(row, ctx)`` as a list; a row that raises is counted as rejected, not fatal."""
        try:
            result = convert(row, self)
        except ROW_ERRORS as exc:
            self.reject(row_error_reason(exc))
            return []
        if result is None:
            return []
        if isinstance(result, dict):
            return [result]
        try:
            return list(result)
        except ROW_ERRORS as exc:  # a generator convert() fails while iterated
            self.reject(row_error_reason(exc))
            return []
