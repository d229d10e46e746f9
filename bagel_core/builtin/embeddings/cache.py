"""On-disk cache of text embeddings, keyed by (model settings, text hash).

One folder per encoder key under the decontaminator's cache dir; each encode call adds a shard:
``<uuid>.vectors.npy`` (float32, one row per text) then ``<uuid>.keys.npy`` (16-byte BLAKE2b
digests of the texts, uint8), the keys file written last so a shard without one (a killed run) is
ignored. Shards are memory-mapped, so a rerun or a resumed run encodes nothing twice and keeps
only the digests in memory.
"""

from __future__ import annotations

import hashlib
import re
import uuid
from collections.abc import Callable, Sequence
from pathlib import Path

import numpy as np

from bagel_core.storage import atomic_path

Encoder = Callable[[list[str]], np.ndarray]
#: Texts per encode call and shard.
CHUNK = 8192


def digest(text: str) -> bytes:
    return hashlib.blake2b(text.encode("utf-8", "surrogatepass"), digest_size=16).digest()


def folder_name(key: str) -> str:
    """A readable, unique folder name for an encoder key."""
    slug = re.sub(r"[^A-Za-z0-9._-]+", "_", key)[-60:].strip("_")
    return f"{slug}-{hashlib.sha1(key.encode()).hexdigest()[:12]}"


class EmbeddingCache:
    """Vectors of the texts one encoder has embedded; memory only when ``root`` is None."""

    def __init__(self, root: Path | None, key: str) -> None:
        self.folder = Path(root) / folder_name(key) if root is not None else None
        self._where: dict[bytes, tuple[int, int]] = {}  # digest -> (shard, row)
        self._shards: list[np.ndarray] = []
        #: Texts encoded by this instance (not found in the cache).
        self.encoded = 0
        self._loaded: set[str] = set()  # names of the shards read or written
        self._refresh()

    def _refresh(self) -> None:
        """Read the shards not read yet: at start, and when another process (a worker of the
        same run) may have encoded what this one is missing."""
        if self.folder is None or not self.folder.is_dir():
            return
        for keys_file in sorted(self.folder.glob("*.keys.npy")):
            if keys_file.name not in self._loaded:
                self._loaded.add(keys_file.name)
                vectors_file = keys_file.with_name(keys_file.name.replace(".keys.", ".vectors."))
                self._add(np.load(keys_file), np.load(vectors_file, mmap_mode="r"))

    def __len__(self) -> int:
        return len(self._where)

    def _add(self, keys: np.ndarray, vectors: np.ndarray) -> None:
        shard = len(self._shards)
        self._shards.append(vectors)
        raw = keys.tobytes()  # uint8 rows of 16: bytes keep trailing zeros, unlike numpy "S16"
        for row in range(len(keys)):
            self._where.setdefault(raw[16 * row : 16 * row + 16], (shard, row))

    def embed(self, texts: Sequence[str], encode: Encoder) -> np.ndarray:
        """Vectors of ``texts`` (rows in order), encoding only those not cached, once each."""
        digests = [digest(t) for t in texts]
        missing: dict[bytes, str] = {}
        for d, t in zip(digests, texts):
            if d not in self._where and d not in missing:
                missing[d] = t
        if missing:
            self._refresh()
            missing = {d: t for d, t in missing.items() if d not in self._where}
        # Longest first, in chunks each saved as a shard: similar lengths share a padded batch,
        # and a killed run keeps what it encoded.
        todo = sorted(missing.items(), key=lambda item: -len(item[1]))
        for start in range(0, len(todo), CHUNK):
            chunk = todo[start : start + CHUNK]
            vectors = np.ascontiguousarray(encode([t for _, t in chunk]), dtype=np.float32)
            keys = np.frombuffer(b"".join(d for d, _ in chunk), dtype=np.uint8).reshape(-1, 16)
            self.encoded += len(chunk)
            self._add(keys, self._save(keys, vectors))
        if not texts:
            return np.zeros((0, self._shards[0].shape[1] if self._shards else 0), dtype=np.float32)
        where = np.array([self._where[d] for d in digests], dtype=np.int64)
        out = np.empty((len(texts), self._shards[where[0, 0]].shape[1]), dtype=np.float32)
        for shard in np.unique(where[:, 0]):
            rows = where[:, 0] == shard
            out[rows] = self._shards[shard][where[rows, 1]]
        return out

    def _save(self, keys: np.ndarray, vectors: np.ndarray) -> np.ndarray:
        if self.folder is None:
            return vectors
        self.folder.mkdir(parents=True, exist_ok=True)
        name = uuid.uuid4().hex
        self._loaded.add(f"{name}.keys.npy")
        for suffix, array in (("vectors", vectors), ("keys", keys)):  # keys last: marks it complete
            with atomic_path(self.folder / f"{name}.{suffix}.npy") as tmp, open(tmp, "wb") as f:
                np.save(f, array)
        return vectors
