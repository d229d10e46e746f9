"""The ``exact`` deduper: items with the same id are duplicates; the first one is kept.

An id is the uuid5 of the instruction text (:func:`bagel_core.records.uid`), so this is the
reference's dedup: the same instruction, character for character, from any source.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass

from bagel_core.components import DedupBatch, Deduper, Duplicate


class ExactDeduper(Deduper):
    name = "exact"
    description = "Same id (uuid5 of the instruction text): the reference's dedup."

    @dataclass
    class Options:
        pass

    def __init__(self, options=None, cache_dir=None) -> None:
        super().__init__(options, cache_dir)
        self._first: dict[str, int] = {}  # id -> position of its first item
        self._found: list[Duplicate] = []

    def add(self, batch: DedupBatch) -> None:
        first = self._first
        for position, item_id in zip(batch.positions, batch.ids):
            kept = first.setdefault(item_id, position)
            if kept != position:
                self._found.append(Duplicate(position, kept, 1.0))

    def duplicates(self) -> Iterator[Duplicate]:
        return iter(self._found)
