"""The ``minhash`` deduper: near-duplicates by MinHash signatures and LSH banding.

Texts are normalised as the n-gram decontaminator does (case-folded, diacritics dropped,
punctuation and whitespace folded to one separator), cut into shingles (word n-grams by
default, or character n-grams), and summarised by a MinHash signature ([rensa]'s
``RMinHash``, computed in Rust a batch at a time). An item is a near-duplicate of an earlier
kept item when their estimated Jaccard similarity (the share of equal signature values) is at
least ``threshold``; LSH banding finds the candidates without comparing every pair.

Streamed: ``add`` keeps only each item's band hashes (4 bytes a band) and the low 16 bits of its
signature (2 bytes a permutation; two different 32-bit values agree in their low 16 bits with
probability 2^-16, which leaves the estimate unbiased to within 0.00002). No text is held. The
first item of every cluster is kept, so the highest-priority source wins: ``duplicates``
walks the items in priority order and compares each with the kept items that share a band.

[rensa]: https://github.com/beowolx/rensa
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Iterator, Literal, Optional

import numpy as np

from ..components import DedupBatch, Deduper, Duplicate
from .decontaminate_ngram import words

#: Banding is chosen so that a pair at the threshold becomes a candidate with at least this
#: probability (the signatures then decide).
CANDIDATE_RECALL = 0.99
# Odd 64-bit multipliers mixing a band's rows into one hash (any fixed odd constants do).
_MIX = np.array([0x9E3779B97F4A7C15, 0xC2B2AE3D27D4EB4F, 0x165667B19E3779F9, 0xD6E8FEB86659FD93], dtype=np.uint64)


def shingles(text: str, kind: str, size: int) -> set[str]:
    """The shingles of ``text`` after normalisation: ``size``-word or ``size``-character windows
    (the whole normalised text when it is shorter); empty when it has no letters or digits."""
    ws = words(text)
    if not ws:
        return set()
    if kind == "char":
        joined = " ".join(ws)
        return {joined[i : i + size] for i in range(max(1, len(joined) - size + 1))}
    if len(ws) <= size:
        return {" ".join(ws)}
    return set(map(" ".join, zip(*(ws[i:] for i in range(size)))))


def banding(threshold: float, permutations: int) -> tuple[int, int]:
    """(bands, rows): the most rows per band (fewest chance candidates) whose bands still make
    a pair at ``threshold`` a candidate with probability >= :data:`CANDIDATE_RECALL`."""
    for rows in range(permutations, 0, -1):
        bands = permutations // rows
        if 1 - (1 - threshold**rows) ** bands >= CANDIDATE_RECALL:
            return bands, rows
    return permutations, 1


class MinHashDeduper(Deduper):
    name = "minhash"
    description = "Near-duplicates: MinHash of word shingles, LSH banding, estimated Jaccard >= threshold."

    @dataclass
    class Options:
        #: Estimated Jaccard similarity of the shingle sets at or above which an item is removed.
        threshold: float = field(default=0.7, metadata={"min": 0.05, "max": 1.0, "help": "Jaccard similarity that makes a near-duplicate."})
        #: ``word``: n-grams of normalised words; ``char``: n-grams of characters.
        shingle: Literal["word", "char"] = "word"
        #: Words (or characters) per shingle.
        shingle_size: int = field(default=3, metadata={"min": 1, "max": 64})
        #: MinHash permutations (signature length).
        permutations: int = field(default=128, metadata={"min": 8, "max": 1024})
        #: LSH bands; None: chosen from ``threshold`` (see :func:`banding`). Rows per band are
        #: ``permutations // bands``.
        bands: Optional[int] = field(default=None, metadata={"min": 1, "max": 1024})
        #: Seed of the MinHash permutations.
        seed: int = 1

    def __init__(self, options: Optional[Options] = None, cache_dir=None) -> None:
        super().__init__(options, cache_dir)
        o = self.options
        try:
            from rensa import RMinHash
        except ImportError:
            raise ImportError("the minhash deduper needs rensa: pip install 'bagel-core[dedup]'") from None
        self._rminhash = RMinHash
        if o.bands is None:
            self.bands, self.rows = banding(o.threshold, o.permutations)
        else:
            if o.bands > o.permutations:
                raise ValueError(f"minhash: bands ({o.bands}) must be at most permutations ({o.permutations})")
            self.bands, self.rows = o.bands, o.permutations // o.bands
        self._positions: list[np.ndarray] = []
        self._bands: list[np.ndarray] = []  # (n, bands) uint32 band hashes
        self._signatures: list[np.ndarray] = []  # (n, permutations) uint16: low bits of each value

    def signatures(self, texts) -> tuple[np.ndarray, np.ndarray]:
        """(indices of the texts that have shingles, their uint32 signatures)."""
        o = self.options
        sets = [shingles(t, o.shingle, o.shingle_size) for t in texts]
        present = np.array([i for i, s in enumerate(sets) if s], dtype=np.int64)
        if not len(present):
            return present, np.zeros((0, o.permutations), dtype=np.uint32)
        matrix = self._rminhash.digest_matrix_from_token_sets([sets[i] for i in present], o.permutations, o.seed)
        return present, np.array(matrix.to_rows(), dtype=np.uint32)

    def band_hashes(self, signatures: np.ndarray) -> np.ndarray:
        """(n, bands) uint32: each band's ``rows`` values mixed into one hash. Equal bands give
        equal hashes; a chance collision only adds a candidate, which the signatures reject."""
        used = signatures[:, : self.bands * self.rows].astype(np.uint64).reshape(len(signatures), self.bands, self.rows)
        mixed = np.zeros(used.shape[:2], dtype=np.uint64)
        for r in range(self.rows):
            mixed = (mixed ^ used[:, :, r]) * _MIX[r % len(_MIX)]
            mixed ^= mixed >> np.uint64(29)
        return (mixed >> np.uint64(32)).astype(np.uint32)

    def add(self, batch: DedupBatch) -> None:
        present, sig = self.signatures(batch.texts)
        if not len(present):
            return
        self._positions.append(np.asarray(batch.positions, dtype=np.int64)[present])
        self._bands.append(self.band_hashes(sig))
        self._signatures.append(sig.astype(np.uint16))

    def duplicates(self) -> Iterator[Duplicate]:
        if not self._positions:
            return
        positions = np.concatenate(self._positions)
        buckets = np.concatenate(self._bands)
        signatures = np.concatenate(self._signatures)
        self._positions, self._bands, self._signatures = [], [], []
        if len(positions) > 1 and not (np.diff(positions) > 0).all():
            # The engine adds batches in priority order; a caller that did not is put in it.
            order = np.argsort(positions, kind="stable")
            positions, buckets, signatures = positions[order], buckets[order], signatures[order]
        n = len(positions)
        # Per band, replace each hash by its bucket number and mark buckets holding two or more.
        shared = np.zeros(buckets.shape, dtype=bool)
        for b in range(self.bands):
            _, inverse, counts = np.unique(buckets[:, b], return_inverse=True, return_counts=True)
            buckets[:, b] = inverse
            shared[:, b] = counts[inverse] > 1
        kept_in: dict[int, list[int]] = {}  # band * n + bucket -> kept items in it, in order
        for i in np.flatnonzero(shared.any(axis=1)).tolist():
            bands = np.flatnonzero(shared[i])
            keys = (bands * n + buckets[i, bands]).tolist()
            members = [j for k in keys for j in kept_in.get(k, ())]
            if members:
                candidates = np.unique(np.array(members))
                similarity = (signatures[candidates] == signatures[i]).mean(axis=1)
                best = int(np.argmax(similarity))  # ties: the earliest kept item
                if similarity[best] >= self.options.threshold:
                    yield Duplicate(int(positions[i]), int(positions[candidates[best]]), float(similarity[best]))
                    continue
            for k in keys:
                kept_in.setdefault(k, []).append(i)
