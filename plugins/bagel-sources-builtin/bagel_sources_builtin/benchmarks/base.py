"""What the Hub-hosted benchmark sets share: one split of one config, read as parquet files."""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from typing import Any, ClassVar

from bagel_core import BenchmarkSet, BenchmarkText, LoadContext

from .. import SAMPLES


class HubBenchmark(BenchmarkSet):
    """A benchmark stored on the Hub as ``<config>/<split>-*.parquet`` (or ``data/...``).

    Subclasses set the upstream ``dataset_ids``, ``config`` (the folder of its files),
    ``splits`` and override :meth:`texts_of_row`. The files are selected with ``data_files``
    so a data root or the shipped sample in the same layout loads exactly like the Hub.
    """

    sample_root = SAMPLES
    #: The upstream config; also the folder its parquet files live in.
    config: ClassVar[str]
    #: Splits indexed, in order.
    splits: ClassVar[tuple[str, ...]]

    def indexed_splits(self) -> tuple[str, ...]:
        return self.splits

    def split_files(self, split: str) -> str:
        return f"{self.config}/{split}-*"

    def rows(self, ctx: LoadContext, split: str) -> Iterable[dict[str, Any]]:
        return ctx.load_dataset(self.dataset_ids[0], split=split, data_files={split: self.split_files(split)})

    def texts_of_row(self, index: int, row: dict[str, Any], split: str, ctx: LoadContext) -> Iterable[BenchmarkText]:
        raise NotImplementedError

    def texts(self, ctx: LoadContext) -> Iterator[BenchmarkText]:
        for split in self.indexed_splits():
            for index, row in enumerate(ctx.iter_rows(self.rows(ctx, split))):
                found: list[BenchmarkText] = []
                with ctx.guard(row):  # bad data: counted and skipped; a bug: stops the run
                    found = list(self.texts_of_row(index, row, split, ctx))
                yield from found

    @classmethod
    def metadata(cls) -> dict[str, Any]:
        return super().metadata() | {"config": cls.config, "splits": list(cls.splits)}


class FoldersBenchmark(HubBenchmark):
    """A benchmark whose configs are folders of its one split, ``<config>/<split>-*.parquet``
    (BIG-Bench Hard's tasks, MATH's subjects). Subclasses set ``configs`` and override
    :meth:`texts_of_config_row`."""

    config = "<config>"
    configs: ClassVar[tuple[str, ...]]

    def texts_of_config_row(
        self, config: str, index: int, row: dict[str, Any], ctx: LoadContext
    ) -> Iterable[BenchmarkText]:
        raise NotImplementedError

    def texts(self, ctx: LoadContext) -> Iterator[BenchmarkText]:
        for split in self.indexed_splits():
            for config in self.configs:
                rows = ctx.load_dataset(self.dataset_ids[0], split=split, data_files={split: f"{config}/{split}-*"})
                for index, row in enumerate(ctx.iter_rows(rows)):
                    found: list[BenchmarkText] = []
                    with ctx.guard(row):
                        found = list(self.texts_of_config_row(config, index, row, ctx))
                    yield from found

    @classmethod
    def metadata(cls) -> dict[str, Any]:
        return super().metadata() | {"config": list(cls.configs)}


def text(benchmark: str, item: Any, value: Any, ctx: LoadContext, view: str = "text") -> list[BenchmarkText]:
    """One indexed text (view ``view``), or none (counted as rejected) when the upstream value
    is not text."""
    if not isinstance(value, str) or not value.strip():
        ctx.reject("missing or empty text")
        return []
    return [BenchmarkText(benchmark, str(item), value, view)]
