"""Built-in DeepSpeed ZeRO configurations for ``bagel train --deepspeed zero2|zero3``.

``"auto"`` values are filled by transformers from the training arguments (batch sizes, gradient
accumulation and clipping, bf16/fp16, bucket sizes from the model's hidden size), so one file
fits every model and launch. ZeRO-2 is the seed cards' configuration.
"""

from __future__ import annotations

import copy
import json
from pathlib import Path
from typing import Any

_COMMON: dict[str, Any] = {
    "gradient_accumulation_steps": "auto",
    "gradient_clipping": "auto",
    "train_batch_size": "auto",
    "train_micro_batch_size_per_gpu": "auto",
    "bf16": {"enabled": "auto"},
    "fp16": {"enabled": "auto"},
}

ZERO2: dict[str, Any] = {
    **_COMMON,
    "zero_optimization": {
        "stage": 2,
        "contiguous_gradients": True,
        "overlap_comm": True,
        "reduce_scatter": True,
        "reduce_bucket_size": 5e8,
        "allgather_bucket_size": 5e8,
    },
}

ZERO3: dict[str, Any] = {
    **_COMMON,
    "zero_optimization": {
        "stage": 3,
        "contiguous_gradients": True,
        "overlap_comm": True,
        "reduce_bucket_size": "auto",
        "stage3_prefetch_bucket_size": "auto",
        "stage3_param_persistence_threshold": "auto",
        "stage3_max_live_parameters": 1e9,
        "stage3_max_reuse_distance": 1e9,
        "sub_group_size": 1e9,
        # Gather the sharded weights into one 16-bit model when saving, so the output loads anywhere.
        "stage3_gather_16bit_weights_on_model_save": True,
    },
}

BUILTIN: dict[str, dict[str, Any]] = {"zero2": ZERO2, "zero3": ZERO3}


def resolve(value: str | None) -> dict[str, Any] | str | None:
    """The ``deepspeed`` training argument for ``--deepspeed VALUE``: a copy of a built-in
    config for ``zero2``/``zero3``, the path of a JSON file, or ``None`` without DeepSpeed."""
    if not value:
        return None
    if value in BUILTIN:
        return copy.deepcopy(BUILTIN[value])
    path = Path(value)
    if not path.is_file():
        raise ValueError(f"--deepspeed {value!r}: not zero2, zero3 or an existing JSON file")
    try:
        json.loads(path.read_text())
    except json.JSONDecodeError as exc:
        raise ValueError(f"--deepspeed {value!r} is not valid JSON: {exc}") from None
    return str(path)
