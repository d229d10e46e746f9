"""The first, cheap pass of the embedding decontaminator: a static embedding model.

A static model (``model2vec``) keeps one vector per word piece, distilled from the
sentence-transformer itself: each vocabulary entry is embedded by the transformer, the vectors
are reduced by PCA and weighted by word frequency. A text's vector is then the normalised mean
of its word pieces' vectors: no transformer pass, thousands of texts per second on one core.
It ranks texts much like the transformer does but less sharply, so it only proposes candidates
(a low threshold, chosen on the development set so that no match of the transformer is lost);
the transformer scores the candidates.

The distillation runs once per model, locally (about a minute on two cores, no network: the
transformer is the offline copy), into ``<cache dir>/static/<model>-<hash>/``, written to a
temporary folder and renamed, so an interrupted distillation is redone, never loaded half-done.
"""

from __future__ import annotations

import os
import re
import shutil
import tempfile
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np

from bagel_core.builtin.embeddings.cache import folder_name
from bagel_core.builtin.library_bars import library_bars_off

#: BERT's pre-tokenisation: runs of letters and digits; every other non-space character alone.
_WORD = re.compile(r"[^\W_]+|[^\w\s]|_")


def static_model_path(model_path: str, cache_root: Path, dims: int) -> Path:
    """The folder of the static model distilled from ``model_path`` with ``dims`` dimensions,
    distilled now when it is not there yet."""
    target = cache_root / folder_name(f"{model_path}|pca={dims}")
    if (target / "model.safetensors").exists():
        return target
    from model2vec.distill import distill

    cache_root.mkdir(parents=True, exist_ok=True)
    tmp = Path(tempfile.mkdtemp(prefix=".distill-", dir=cache_root))
    try:
        with library_bars_off():
            distill(model_name=model_path, pca_dims=dims, device="cpu").save_pretrained(str(tmp))
        if target.exists():  # another run finished first
            shutil.rmtree(tmp)
        else:
            os.replace(tmp, target)
    finally:
        if tmp.exists():
            shutil.rmtree(tmp, ignore_errors=True)
    return target


class StaticEncoder:
    """Unit vectors of texts from a distilled static model (float32).

    The model's tokeniser (BERT's: lower-cased, split at spaces and punctuation, then word
    pieces) is applied once per distinct *word*: a word's vector (the sum of its pieces') is
    kept in a table, and a text's vector is the normalised sum of its words' rows, computed for
    a whole batch as one sparse-by-dense product. Splitting into words is one regular
    expression in C, so a text costs a dict lookup per word instead of a tokeniser pass: the
    same vectors as the model's own ``encode`` (without its 512-piece cut), several times faster.
    """

    #: Words kept in the table; beyond, new words are looked up afresh each time (memory bound).
    MAX_WORDS = 400_000

    def __init__(self, path: Path) -> None:
        from model2vec import StaticModel

        model: Any = StaticModel.from_pretrained(str(path), normalize=True)
        self.tokenizer = model.tokenizer
        self.pieces = np.asarray(model.embedding, dtype=np.float32)
        self.unk = model.unk_token_id
        self.rows: dict[str, int] = {}
        self.table = np.zeros((1024, self.pieces.shape[1]), dtype=np.float32)

    @property
    def dims(self) -> int:
        return int(self.pieces.shape[1])

    def words(self, text: str) -> list[str]:
        if not text.isascii():
            text = self.tokenizer.normalizer.normalize_str(text)
        return _WORD.findall(text.lower())

    def _learn(self, new: list[str]) -> None:
        """Table rows for words not seen before (as many as fit)."""
        room = self.MAX_WORDS - len(self.rows)
        new = new[: max(room, 0)]
        if not new:
            return
        needed = len(self.rows) + len(new)
        if needed > len(self.table):
            grown = np.zeros((max(needed, 2 * len(self.table)), self.dims), dtype=np.float32)
            grown[: len(self.table)] = self.table
            self.table = grown
        for word, encoding in zip(new, self.tokenizer.encode_batch_fast(new, add_special_tokens=False)):
            ids = [i for i in encoding.ids if i != self.unk]
            row = len(self.rows)
            self.table[row] = self.pieces[ids].sum(axis=0) if ids else 0.0
            self.rows[word] = row

    def encode(self, texts: Sequence[str]) -> np.ndarray:
        return self.encode_words([self.words(t) for t in texts])

    def encode_words(self, split: list[list[str]]) -> np.ndarray:
        """Unit vectors of texts given as their :meth:`words`."""
        from scipy.sparse import csr_matrix

        if not split:
            return np.zeros((0, self.dims), dtype=np.float32)
        rows = self.rows
        new = list(dict.fromkeys(w for ws in split for w in ws if w not in rows))
        if new:
            self._learn(new)
        columns: list[int] = []
        indptr = [0]
        extra: dict[int, np.ndarray] = {}  # texts with words beyond the table's capacity
        for n, ws in enumerate(split):
            found = [rows[w] for w in ws if w in rows]
            columns += found
            indptr.append(len(columns))
            if len(found) < len(ws):
                missing = [w for w in ws if w not in rows]
                ids = [
                    i
                    for e in self.tokenizer.encode_batch_fast(missing, add_special_tokens=False)
                    for i in e.ids
                    if i != self.unk
                ]
                extra[n] = self.pieces[ids].sum(axis=0)
        counts = csr_matrix(
            (
                np.ones(len(columns), dtype=np.float32),
                np.array(columns, dtype=np.int64),
                np.array(indptr, dtype=np.int64),
            ),
            shape=(len(split), len(self.rows)),
        )
        vectors = np.asarray(counts @ self.table[: len(self.rows)], dtype=np.float32)
        for n, v in extra.items():
            vectors[n] += v
        norms = np.linalg.norm(vectors, axis=1, keepdims=True)
        return vectors / np.maximum(norms, 1e-12)
