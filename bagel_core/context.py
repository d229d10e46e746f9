"""The context a source, DPO builder or benchmark set receives while loading."""

from __future__ import annotations

import itertools
import random
from collections import Counter
from collections.abc import Callable, Iterable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, TypeVar, cast

from . import rng
from .data import DataAccess, DatasetUnavailable
from .readers import DATA_ERRORS, MalformedFile, RowFailure, excerpt, reason_of
from .records import Record

T = TypeVar("T")

#: Raised inside a row's handling but about the component or its files, not the row: passed on.
_NOT_ROW_ERRORS = (RowFailure, MalformedFile, DatasetUnavailable)


@dataclass
class LoadCounts:
    """What happened to a component's rows."""

    #: Records that passed validation and went on to dedup.
    loaded: int = 0
    #: Records or rows rejected as malformed, by reason.
    rejected: Counter = field(default_factory=Counter)
    #: Rows dropped on purpose by the component's filters (refusals, caps, ...), by reason.
    filtered: Counter = field(default_factory=Counter)
    #: The first rejected row of each reason: ``{"at": where, "row": excerpt, "detail": why}``.
    examples: dict[str, dict[str, str]] = field(default_factory=dict)
    #: The first filtered row of each reason, the same way (for ``bagel report``).
    filtered_examples: dict[str, dict[str, str]] = field(default_factory=dict)

    def as_dict(self) -> dict[str, Any]:
        return {
            "loaded": self.loaded,
            "rejected": dict(self.rejected),
            "filtered": dict(self.filtered),
            "examples": self.examples,
            "filtered_examples": self.filtered_examples,
        }

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> LoadCounts:
        return cls(
            data["loaded"],
            Counter(data["rejected"]),
            Counter(data["filtered"]),
            dict(data.get("examples", {})),
            dict(data.get("filtered_examples", {})),
        )


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
        # Where the row being handled came from, for rejection examples and bug reports: a
        # (label, index) pair formatted only when needed, as it is set once per row.
        self._position: tuple[str, Any] = ("", None)
        self._rows_label = "row {}"
        # The row being converted (inside convert_row or guard), for the example of a filter.
        self._row: Any = None

    # -- data -------------------------------------------------------------------------------
    @property
    def sample(self) -> bool:
        """True under ``--sample``: data comes from the samples the plugin ships."""
        return self.data.sample

    def load_dataset(
        self, dataset_id: str, name: str | None = None, split: str = "train", data_files: Any = None, **kwargs: Any
    ):
        """A ``datasets.Dataset`` of the upstream data (see :class:`bagel_core.data.DataAccess`)."""
        self._rows_label = f"row {{}} of {dataset_id}"
        return self.data.load_dataset(
            dataset_id, name=name, split=split, data_files=data_files, reject=self.reject, **kwargs
        )

    def iter_rows(self, rows: Iterable[Any], batch_size: int = 1000) -> Iterator[dict]:
        """The rows of ``rows`` as dicts. A ``datasets.Dataset`` is read in batches, several
        times faster than iterating it row by row; any other iterable is passed through. Each
        row's position is kept for messages: its index, unless the iterable (one of the
        :mod:`bagel_core.readers`) said where it came from."""
        if not (hasattr(rows, "iter") and hasattr(rows, "column_names")):
            iterator = iter(rows)
            for index in itertools.count():
                before = self._position
                try:
                    row = next(iterator)
                except StopIteration:
                    return
                if self._position is before:
                    self._position = ("row {}", index)
                yield row
            return
        index = 0
        for batch in rows.iter(batch_size=batch_size):
            keys = list(batch)
            for values in zip(*batch.values()):
                self._position = (self._rows_label, index)
                index += 1
                yield dict(zip(keys, values))

    def dataset_file(self, dataset_id: str, filename: str, url: str | None = None, revision: str | None = None) -> Path:
        """The path of one upstream file (for raw files ``datasets`` does not parse), from the
        Hub at ``revision`` (a commit id pins it; None: the default branch) when not local."""
        return self.data.file(dataset_id, filename, url=url, revision=revision)

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

    def bottom_k(self, n: int, purpose: str) -> rng.BottomK:
        """A streamed sample of at most ``n`` items, the keys :meth:`sample_keys` would pick."""
        return rng.BottomK(n, self.seed, f"{self.component}:{purpose}")

    def stratified_sample(self, keys_by_stratum: dict[str, list[str]], n: int, purpose: str) -> set[str]:
        return rng.stratified_sample(keys_by_stratum, n, self.seed, f"{self.component}:{purpose}")

    # -- counting ---------------------------------------------------------------------------
    def filter(self, reason: str, n: int = 1) -> None:
        """Count ``n`` rows dropped on purpose (a filter or cap), under ``reason``. The first of
        each reason is kept as an example (where it was and the row being converted, if any)."""
        reason = str(reason)
        self.counts.filtered[reason] += n
        if reason not in self.counts.filtered_examples:
            example = {"at": self.where()} if self.where() else {}
            if self._row is not None:
                example["row"] = excerpt(self._row)
            self.counts.filtered_examples[reason] = example

    def reject(self, reason: str, n: int = 1, *, at: str | None = None, row: Any = None, detail: str = "") -> None:
        """Count ``n`` malformed upstream rows under ``reason``. The first of each reason is kept
        as the manifest's example: where it was (``at``, default the current row) and an excerpt."""
        reason = str(reason)
        self.counts.rejected[reason] += n
        if reason not in self.counts.examples:
            example = {"at": at or self.where()} if (at or self.where()) else {}
            if row is not None:
                example["row"] = excerpt(row)
            if detail and detail != reason:
                example["detail"] = excerpt(detail)
            self.counts.examples[reason] = example

    # -- rows -------------------------------------------------------------------------------
    def at(self, position: str) -> None:
        """Record where the row about to be handled comes from (``"file.jsonl line 12"``); the
        readers of :mod:`bagel_core.readers` and :meth:`iter_rows` do it for you."""
        self._position = (position, None)

    def where(self) -> str:
        """The current row's position, for messages."""
        label, index = self._position
        return label if index is None else label.format(index)

    def _failed(self, exc: Exception, row: Any) -> None:
        """Count ``exc`` as a rejected row when it means bad data; otherwise raise it as a bug."""
        if isinstance(exc, _NOT_ROW_ERRORS):
            raise exc
        if isinstance(exc, DATA_ERRORS):
            self.reject(reason_of(exc), row=row, detail=str(exc))
            return
        raise RowFailure(self.component, f"{self.where() or 'a row'} ({excerpt(row, 80)})", exc) from exc

    def convert_row(
        self, convert: Callable[[Any, LoadContext], Record | Iterable[Record] | None], row: Any
    ) -> list[Record]:
        """``convert(row, ctx)`` as a list. A row that raises bad data (:data:`bagel_core.readers.DATA_ERRORS`)
        is counted as rejected; any other exception stops the run as a :class:`RowFailure`."""
        self._row = row  # for the example of a filter() inside convert
        try:
            result = convert(row, self)
            if result is None:
                return []
            if isinstance(result, dict):
                return [cast(Record, result)]  # a TypedDict cannot be an isinstance() target
            return list(result)  # a generator convert() may fail while iterated
        except Exception as exc:
            self._failed(exc, row)
            return []
        finally:
            self._row = None

    @contextmanager
    def guard(self, row: Any) -> Iterator[None]:
        """The row guard of :meth:`convert_row` for loaders that override ``load()``::

            for row in ctx.iter_rows(self.rows(ctx)):
                with ctx.guard(row):
                    yield dpo_pair("mine", text(row, "prompt"), text(row, "chosen"), text(row, "rejected"))

        Bad data in the block is counted as rejected and the block is left; a bug stops the run
        naming the component and the row."""
        self._row = row
        try:
            yield
        except Exception as exc:
            self._failed(exc, row)
        finally:
            self._row = None
