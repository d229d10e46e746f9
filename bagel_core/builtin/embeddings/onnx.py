"""ONNX Runtime backends of the embedding decontaminator (CPU).

The whole sentence-transformers model (transformer, pooling, normalisation) is exported once with
``torch.onnx.export`` into a folder of the decontaminator's cache, and for ``onnx-int8`` its
weights are quantized to int8 with ONNX Runtime's dynamic quantization (matrix multiplications
by a weight, scaled per output channel: per-tensor scales moved cosines to torch's vectors by up
to 0.15 on real texts, against 0.045). Texts are tokenised by the
sentence-transformers model itself, so both backends see the same word pieces as ``torch``.

sentence-transformers' own ``backend="onnx"`` needs ``optimum-onnx``, whose releases require
transformers < 4.58 while sentence-transformers 6 requires transformers 5: hence the export here,
with only ``onnxruntime`` and ``onnx`` added. torch and onnxruntime are imported only when used.
"""

from __future__ import annotations

import warnings
from collections.abc import Sequence
from pathlib import Path
from typing import Any, Literal

import numpy as np

from bagel_core.storage import atomic_path

Backend = Literal["torch", "onnx", "onnx-int8"]
#: How ``onnx-int8`` weights are quantized; part of the cache key, so a change re-encodes.
INT8_SCHEME = "qint8-per-channel-matmul-weights"
#: Tokeniser outputs the exported graph may take, in its argument order.
_INPUTS = ("input_ids", "attention_mask", "token_type_ids")
_OUTPUT = "sentence_embedding"


def _tokenise(model: Any, texts: list[str]) -> dict[str, Any]:
    """The model's own tokenisation (``preprocess`` since sentence-transformers 6, before: ``tokenize``)."""
    return model.preprocess(texts) if hasattr(model, "preprocess") else model.tokenize(texts)


def onnx_file(model: Any, folder: Path, int8: bool) -> Path:
    """The ONNX file of the sentence-transformers ``model`` in ``folder``, exported (and
    quantized) the first time. Files are written under a temporary name and then renamed, so an
    interrupted export is redone, never loaded half-written."""
    folder.mkdir(parents=True, exist_ok=True)
    fp32 = folder / "model.onnx"
    if not fp32.exists():
        _export(model, fp32)
    if not int8:
        return fp32
    quantized = folder / "model_int8.onnx"
    if not quantized.exists():
        from onnxruntime.quantization import QuantType, quantize_dynamic

        with atomic_path(quantized) as tmp:  # per process: workers of one run may export at once
            quantize_dynamic(
                fp32,
                tmp,
                weight_type=QuantType.QInt8,
                per_channel=True,
                op_types_to_quantize=["MatMul"],
                extra_options={"MatMulConstBOnly": True},
            )
    return quantized


def _export(model: Any, path: Path) -> None:
    import torch

    sample = _tokenise(model, ["An example sentence to trace.", "Another one."])
    names = [n for n in _INPUTS if n in sample]

    class Embedder(torch.nn.Module):
        """Positional tensors in, sentence embeddings out: the form ``torch.onnx.export`` traces."""

        def __init__(self) -> None:
            super().__init__()
            self.model = model

        def forward(self, *tensors: Any) -> Any:
            return self.model(dict(zip(names, tensors)))[_OUTPUT]

    axes = {n: {0: "batch", 1: "tokens"} for n in names} | {_OUTPUT: {0: "batch"}}
    with atomic_path(path) as tmp, torch.no_grad(), warnings.catch_warnings():
        warnings.simplefilter("ignore")  # tracer warnings about shape-dependent Python branches
        torch.onnx.export(
            Embedder().eval(),
            tuple(sample[n] for n in names),
            str(tmp),
            input_names=names,
            output_names=[_OUTPUT],
            dynamic_axes=axes,
            opset_version=17,
            dynamo=False,
        )


class OnnxEncoder:
    """Encodes texts with an exported model in ONNX Runtime on the CPU."""

    def __init__(self, model: Any, path: Path) -> None:
        import onnxruntime as ort

        self.model = model  # tokenises
        self.session = ort.InferenceSession(str(path), providers=["CPUExecutionProvider"])
        self.inputs = [i.name for i in self.session.get_inputs()]

    def encode(self, texts: Sequence[str], batch_size: int) -> np.ndarray:
        """L2-normalised float32 embeddings of ``texts`` (at least one), in batches of ``batch_size``."""
        parts = []
        for start in range(0, len(texts), batch_size):
            features = _tokenise(self.model, list(texts[start : start + batch_size]))
            feeds = {n: features[n].numpy() for n in self.inputs}
            parts.append(self.session.run([_OUTPUT], feeds)[0])
        vectors = np.concatenate(parts).astype(np.float32, copy=False)
        return vectors / np.maximum(np.linalg.norm(vectors, axis=1, keepdims=True), 1e-12)
