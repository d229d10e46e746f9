"""Deterministic randomness keyed by (seed, item key, purpose).

No global random state: the same seed gives the same choice for the same item whatever the
process count, batch boundaries or source order.
"""

from __future__ import annotations

import hashlib
import heapq
import random
from collections.abc import Iterable, Sequence
from typing import Generic, TypeVar

T = TypeVar("T")
_SCALE = float(1 << 64)


def _digest(seed: int, key: str, purpose: str) -> bytes:
    return hashlib.blake2b(f"{seed}\x1f{purpose}\x1f{key}".encode(), digest_size=16).digest()


class Stream:
    """``uniform(seed, key, purpose)`` for many keys and one (seed, purpose), hashing the
    common prefix once: the renderer draws one per item and format."""

    def __init__(self, seed: int, purpose: str) -> None:
        self._args = (seed, purpose)
        self._prefix = hashlib.blake2b(f"{seed}\x1f{purpose}\x1f".encode(), digest_size=16)

    def __reduce__(self):  # a hash object does not pickle: a spawned worker rebuilds it
        return Stream, self._args

    def uniform(self, key: str) -> float:
        h = self._prefix.copy()
        h.update(key.encode())
        return int.from_bytes(h.digest()[:8], "big") / _SCALE


def uniform(seed: int, key: str, purpose: str) -> float:
    """A float in [0, 1) fixed by ``(seed, key, purpose)``."""
    return int.from_bytes(_digest(seed, key, purpose)[:8], "big") / _SCALE


def coin(seed: int, key: str, purpose: str, p: float) -> bool:
    """True with probability ``p``; a fixed outcome per ``(seed, key, purpose)``."""
    return uniform(seed, key, purpose) < p


def choice(seed: int, key: str, purpose: str, options: Sequence[T]) -> T:
    """One of ``options``, fixed per ``(seed, key, purpose)``."""
    if not options:
        raise ValueError("choice() needs at least one option")
    return options[int(uniform(seed, key, purpose) * len(options))]


def generator(seed: int, key: str, purpose: str) -> random.Random:
    """A ``random.Random`` seeded from ``(seed, key, purpose)``, for several draws about one item."""
    return random.Random(int.from_bytes(_digest(seed, key, purpose), "big"))


def sample_keys(keys: Iterable[str], n: int, seed: int, purpose: str) -> set[str]:
    """A uniform sample of ``n`` keys without replacement, independent of input order.

    Each key gets a hash-derived rank; the ``n`` smallest ranks win. Fewer than ``n`` keys: all.
    """
    ranked = sorted(keys, key=lambda k: _digest(seed, k, purpose))
    return set(ranked[:n])


class BottomK(Generic[T]):
    """A capped uniform sample, streamed: of the items offered, keeps those whose keys rank
    first by the hash of ``(seed, key, purpose)``, the keys :func:`sample_keys` would pick,
    holding at most ``n`` items instead of every key.

    >>> sample = BottomK(2, seed=1, purpose="cap")
    >>> for key in "abcde":
    ...     sample.offer(key, key.upper())
    >>> sorted(sample.items()) == sorted(k.upper() for k in sample_keys("abcde", 2, 1, "cap")), sample.dropped
    (True, 3)
    """

    def __init__(self, n: int, seed: int, purpose: str) -> None:
        self.n = n
        self.seed = seed
        self.purpose = purpose
        self.offered = 0
        self._heap: list[tuple[int, int, T]] = []  # (-rank, arrival, item): the worst on top

    def offer(self, key: str, item: T) -> None:
        self.offered += 1
        rank = int.from_bytes(_digest(self.seed, key, self.purpose), "big")
        entry = (-rank, self.offered, item)
        if len(self._heap) < self.n:
            heapq.heappush(self._heap, entry)
        elif self.n and rank < -self._heap[0][0]:
            heapq.heapreplace(self._heap, entry)

    @property
    def dropped(self) -> int:
        return self.offered - len(self._heap)

    def items(self) -> list[T]:
        """The kept items, in the order they were offered."""
        return [entry[2] for entry in sorted(self._heap, key=lambda e: e[1])]


def stratified_sample(keys_by_stratum: dict[str, list[str]], n: int, seed: int, purpose: str) -> set[str]:
    """Sample ``n`` keys so that every stratum keeps its share of the whole (largest remainder).

    >>> sorted(len(stratified_sample({"a": list("abcdefgh"), "b": list("xy")}, 5, 1, "t") & set(s)) for s in ("abcdefgh", "xy"))
    [1, 4]
    """
    total = sum(len(v) for v in keys_by_stratum.values())
    if n >= total:
        return {k for v in keys_by_stratum.values() for k in v}
    exact = {s: n * len(v) / total for s, v in keys_by_stratum.items()}
    quota = {s: int(q) for s, q in exact.items()}
    left = n - sum(quota.values())
    for s in sorted(exact, key=lambda s: (-(exact[s] - quota[s]), s))[:left]:
        quota[s] += 1
    picked: set[str] = set()
    for stratum, keys in keys_by_stratum.items():
        picked |= sample_keys(keys, quota[stratum], seed, f"{purpose}\x1f{stratum}")
    return picked
