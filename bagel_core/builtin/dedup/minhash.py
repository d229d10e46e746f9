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

from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from typing import Literal

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from bagel_core.builtin.decontaminate.ngram import words
from bagel_core.components import DedupBatch, Deduper, Duplicate

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


def normalised_words(texts: Sequence[str]) -> tuple[np.ndarray, pa.Array]:
    """The words of many texts, as :func:`~bagel_core.builtin.decontaminate.ngram.words` gives
    them, without a Python string per word: (the number of words of each text, all the words
    one text after the other). ASCII texts are lower-cased and split by Arrow (1.4x faster
    than ``words`` on the scale benchmark's texts); others are normalised by ``words`` in
    Python and joined by spaces, then split the same way."""
    prepared = pa.array([t.lower() if t.isascii() else " ".join(words(t)) for t in texts], pa.string())
    # Words are runs of [a-z0-9] in a lower-cased ASCII text (``words``'s [^\W_]+); the words of
    # the others are already joined by spaces. Any run of ASCII characters but [a-z0-9]
    # separates both.
    split = pc.split_pattern_regex(prepared, "[^a-z0-9\\x{80}-\\x{10FFFF}]+")
    flat = pc.list_flatten(split)
    nonempty = pc.greater(pc.binary_length(flat), 0)
    parents = pc.list_parent_indices(split).filter(nonempty).to_numpy(zero_copy_only=False)
    return np.bincount(parents, minlength=len(texts)).astype(np.int64), flat.filter(nonempty)


def word_shingle_hashes(
    lengths: np.ndarray, flat_words: pa.Array, size: int, hash_words
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """The word shingles of many texts as 64-bit hashes, without building shingle strings:
    (indices of the texts that have words, the hashes of their shingles one text after the
    other, offsets of each text's first hash plus the end). ``lengths`` and ``flat_words`` are
    :func:`normalised_words`'s. A shingle is ``size`` consecutive words, or all the words of a
    shorter text, as :func:`shingles`; ``hash_words`` hashes a list of distinct words. Equal
    word sequences give equal hashes, so MinHash of these is MinHash of the shingle sets (up to
    64-bit collisions)."""
    present = np.flatnonzero(lengths)
    lens = lengths[present]
    if not len(present):
        return present, np.zeros(0, dtype=np.uint64), np.zeros(1, dtype=np.uint64)
    encoded = flat_words.dictionary_encode()
    word = hash_words(encoded.dictionary.to_pylist())[encoded.indices.to_numpy(zero_copy_only=False)]
    starts = np.cumsum(lens) - lens
    short = lens < size
    short_hash = np.zeros(len(lens), dtype=np.uint64)
    window = word  # window[j]: hash of the r words from j on (r = 1 here)
    for r in range(2, size + 1):
        ended = lens == r - 1  # texts of r - 1 words: their one shingle is complete
        short_hash[ended] = window[starts[ended]]
        # Multiply before adding the next word: order matters ("a b" is not "b a").
        window = (window[:-1] * _MIX[r % len(_MIX)]) ^ word[r - 1 :]
        window ^= window >> np.uint64(29)
    counts = np.where(short, 1, lens - size + 1)
    first = np.repeat(starts, counts) + (np.arange(counts.sum()) - np.repeat(np.cumsum(counts) - counts, counts))
    long_ = np.repeat(~short, counts)
    hashes = np.empty(len(first), dtype=np.uint64)
    hashes[long_] = window[first[long_]]
    hashes[~long_] = short_hash[short]
    return present, hashes, np.concatenate(([0], np.cumsum(counts))).astype(np.uint64)


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
    requires_modules = ("rensa",)
    description = "Near-duplicates: MinHash of word shingles, LSH banding, estimated Jaccard >= threshold."

    @dataclass
    class Options:
        #: Estimated Jaccard similarity of the shingle sets at or above which an item is removed.
        threshold: float = field(
            default=0.7, metadata={"min": 0.05, "max": 1.0, "help": "Jaccard similarity that makes a near-duplicate."}
        )
        #: ``word``: n-grams of normalised words; ``char``: n-grams of characters.
        shingle: Literal["word", "char"] = "word"
        #: Words (or characters) per shingle.
        shingle_size: int = field(default=3, metadata={"min": 1, "max": 64})
        #: MinHash permutations (signature length).
        permutations: int = field(default=128, metadata={"min": 8, "max": 1024})
        #: LSH bands; None: chosen from ``threshold`` (see :func:`banding`). Rows per band are
        #: ``permutations // bands``.
        bands: int | None = field(default=None, metadata={"min": 1, "max": 1024})
        #: Seed of the MinHash permutations.
        seed: int = 1
        #: Components (sources, DPO builders) whose items this deduper neither removes nor
        #: compares others with: sets that ask several questions about one passage (squad_v2,
        #: drop, belebele) have near-duplicate instructions by design.
        skip_sources: tuple[str, ...] = ()

    options: Options

    def __init__(self, options: Options | None = None, cache_dir=None) -> None:
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
        if o.shingle == "char":
            sets = [shingles(t, o.shingle, o.shingle_size) for t in texts]
            present = np.array([i for i, s in enumerate(sets) if s], dtype=np.int64)
            matrix = (
                self._rminhash.digest_matrix_from_token_sets([sets[i] for i in present], o.permutations, o.seed)
                if len(present)
                else None
            )
        else:
            present, hashes, offsets = word_shingle_hashes(*normalised_words(texts), o.shingle_size, self._hash_words)
            matrix = (
                self._rminhash.digest_matrix_from_flat_token_hashes(hashes, offsets, o.permutations, o.seed)
                if len(present)
                else None
            )
        if matrix is None:
            return present, np.zeros((0, o.permutations), dtype=np.uint32)
        return present, np.array(matrix.to_rows(), dtype=np.uint32)

    def _hash_words(self, vocabulary: list[str]) -> np.ndarray:
        return np.array(self._rminhash.hash_token_sets([vocabulary])[0], dtype=np.uint64)

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
        texts = batch.texts
        if self.options.skip_sources:
            skipped = set(self.options.skip_sources)
            # A skipped item gets no shingles, like a text without words: never matched.
            texts = ["" if origin in skipped else text for origin, text in zip(batch.origins, texts)]
        present, sig = self.signatures(texts)
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
        permutations = signatures.shape[1]
        offsets = np.arange(self.bands, dtype=np.int64) * n
        candidates = np.flatnonzero(shared.any(axis=1))
        for chunk in range(0, len(candidates), 8192):  # keys as Python ints, a chunk at a time
            rows = candidates[chunk : chunk + 8192]
            keys_of = np.where(shared[rows], offsets + buckets[rows], -1).tolist()
            for i, keys in zip(rows.tolist(), keys_of):
                keys = [k for k in keys if k >= 0]
                members: set[int] = set()
                for k in keys:
                    kept = kept_in.get(k)
                    if kept:
                        members.update(kept)
                if members:
                    others = np.array(sorted(members))
                    similarity = np.count_nonzero(signatures[others] == signatures[i], axis=1) / permutations
                    best = int(np.argmax(similarity))  # ties: the earliest kept item
                    if similarity[best] >= self.options.threshold:
                        yield Duplicate(int(positions[i]), int(positions[others[best]]), float(similarity[best]))
                        continue
                for k in keys:
                    kept_in.setdefault(k, []).append(i)
