"""The built-in ZeRO configs are JSON that transformers fills and DeepSpeed accepts."""

from __future__ import annotations

import json

import pytest

from bagel_core.builtin.train import deepspeed_configs as deepspeed_configs


@pytest.mark.parametrize("name, stage", [("zero2", 2), ("zero3", 3)])
def test_train_deepspeed_builtin_configs_are_accepted(name, stage, tmp_path):
    from deepspeed.runtime.config import DeepSpeedConfig
    from transformers import TrainingArguments
    from transformers.integrations.deepspeed import HfTrainerDeepSpeedConfig

    config = json.loads(json.dumps(deepspeed_configs.resolve(name)))  # plain JSON, as a file would be
    args = TrainingArguments(
        output_dir=str(tmp_path),
        per_device_train_batch_size=2,
        gradient_accumulation_steps=4,
        bf16=False,
        max_grad_norm=0.3,
        report_to=[],
    )
    hf = HfTrainerDeepSpeedConfig(config)
    hf.trainer_config_process(args)  # fills the "auto" values from the training arguments
    hf.trainer_config_finalize(args, _Model(hidden_size=64), num_training_steps=100)
    ds = DeepSpeedConfig(hf.config)  # DeepSpeed's own validation: unknown keys and bad values fail
    assert ds.zero_optimization_stage == stage
    assert (ds.train_micro_batch_size_per_gpu, ds.gradient_accumulation_steps, ds.train_batch_size) == (2, 4, 8)
    assert ds.gradient_clipping == 0.3
    assert ds.zero_config.overlap_comm is True
    assert deepspeed_configs.resolve(name) is not deepspeed_configs.BUILTIN[name]  # callers get a copy


class _Model:
    def __init__(self, hidden_size: int) -> None:
        self.config = type("Config", (), {"hidden_size": hidden_size})()


def test_train_deepspeed_zero2_matches_the_cards():
    zero = deepspeed_configs.ZERO2["zero_optimization"]
    assert zero == {
        "stage": 2,
        "contiguous_gradients": True,
        "overlap_comm": True,
        "reduce_scatter": True,
        "reduce_bucket_size": 5e8,
        "allgather_bucket_size": 5e8,
    }
    assert deepspeed_configs.ZERO2["bf16"] == {"enabled": "auto"}


def test_train_deepspeed_user_files(tmp_path):
    good = tmp_path / "ds.json"
    good.write_text(json.dumps(deepspeed_configs.ZERO2))
    assert deepspeed_configs.resolve(str(good)) == str(good)
    assert deepspeed_configs.resolve(None) is None
    with pytest.raises(ValueError, match="not zero2, zero3 or an existing JSON file"):
        deepspeed_configs.resolve("zero4")
    bad = tmp_path / "bad.json"
    bad.write_text("{stage: 2")
    with pytest.raises(ValueError, match="not valid JSON"):
        deepspeed_configs.resolve(str(bad))
