"""Training config files: a file gives the same run as the same flags, passes any other trl
field through, and the shipped recipes reproduce the seed card's SFT and DPO commands."""

from __future__ import annotations

import json
from dataclasses import replace
from pathlib import Path

import pytest
from click.testing import CliRunner

from bagel_core.builtin.train import common as train_common
from bagel_core.builtin.train.dpo import DPO
from bagel_core.builtin.train.sft import SFT
from bagel_core.cli import cli

RECIPES = Path(__file__).resolve().parents[1] / "recipes"

#: The DeepSpeed JSON of the v0.1 card, as printed there.
CARD_ZERO2 = {
    "gradient_accumulation_steps": "auto",
    "gradient_clipping": "auto",
    "train_batch_size": "auto",
    "train_micro_batch_size_per_gpu": "auto",
    "bf16": {"enabled": True},
    "zero_optimization": {
        "stage": 2,
        "contiguous_gradients": True,
        "overlap_comm": True,
        "reduce_scatter": True,
        "reduce_bucket_size": 5e8,
        "allgather_bucket_size": 5e8,
    },
}


@pytest.fixture
def captured(monkeypatch):
    """The options each ``bagel train NAME`` run would train with (training itself skipped)."""
    seen: list = []
    for cls in (SFT, DPO):
        monkeypatch.setattr(cls, "train", lambda self: seen.append(self.options))
    return seen


def run(*args: str):
    result = CliRunner().invoke(cli, ["train", *args])
    assert result.exit_code == 0, result.output
    return result


def trl_kwargs(options, trainer) -> dict:
    """What bagel hands trl's config for these options (bagel's own fields and --arg's)."""
    from trl import DPOConfig, SFTConfig

    own = train_common.config_kwargs(options, has_eval=options.eval_fraction > 0)
    method = trainer(options).method_config()
    config_cls = SFTConfig if trainer is SFT else DPOConfig
    return {**own, **method, **train_common.extra_args(options, config_cls, [*own, *method])}


def test_train_config_file_equals_flags(captured, tmp_path):
    config = tmp_path / "sft.toml"
    config.write_text(
        'model = "m"\ndata = "d"\nlearning-rate = 1e-4\nlora = true\nlora_target_modules = ["q_proj", "v_proj"]\n'
        'multi_turn = true\nover_length = "drop"\n[args]\nadam_beta2 = 0.95\nlr_scheduler_kwargs = {min_lr = 1e-6}\n'
    )
    run("sft", "--config", str(config))
    run(
        "sft",
        "--model",
        "m",
        "--data",
        "d",
        "--learning-rate",
        "1e-4",
        "--lora",
        "--lora-target-modules",
        "q_proj",
        "--lora-target-modules",
        "v_proj",
        "--multi-turn",
        "--over-length",
        "drop",
        "--arg",
        "adam_beta2=0.95",
        "--arg",
        'lr_scheduler_kwargs={"min_lr": 1e-6}',
    )
    from_file, from_flags = captured
    assert replace(from_file, arg=()) == replace(from_flags, arg=())
    kwargs = trl_kwargs(from_file, SFT)
    assert kwargs == trl_kwargs(from_flags, SFT)
    assert kwargs["adam_beta2"] == 0.95 and kwargs["lr_scheduler_kwargs"] == {"min_lr": 1e-6}
    # YAML, as axolotl users write it, is the same run; flags win over the file.
    yaml_config = tmp_path / "sft.yaml"
    yaml_config.write_text(
        "model: m\ndata: d\nlearning_rate: 1.0e-4\nlora: true\nlora_target_modules: [q_proj, v_proj]\nmulti_turn: true\n"
        "over_length: drop\nargs:\n  adam_beta2: 0.95\n  lr_scheduler_kwargs: {min_lr: 1.0e-6}\n"
    )
    run("sft", "--config", str(yaml_config))
    assert replace(captured[2], arg=()) == replace(from_flags, arg=()) and trl_kwargs(captured[2], SFT) == kwargs
    run("sft", "--config", str(config), "--learning-rate", "3e-4", "--arg", "adam_beta2=0.9")
    assert captured[3].learning_rate == 3e-4 and trl_kwargs(captured[3], SFT)["adam_beta2"] == 0.9


def test_train_config_errors_name_the_key(tmp_path):
    bad = tmp_path / "bad.toml"
    bad.write_text('model = "m"\nlearning_rte = 1e-4\n')
    result = CliRunner().invoke(cli, ["train", "sft", "--config", str(bad)])
    assert result.exit_code != 0 and "unknown option 'learning_rte'" in result.output
    opts = SFT.Options(model="m", arg=("adam_beta3=1",))
    with pytest.raises(train_common.TrainingSetupError, match="adam_beta3: not a field of trl's SFTConfig"):
        trl_kwargs(opts, SFT)
    with pytest.raises(train_common.TrainingSetupError, match="use --learning-rate"):
        trl_kwargs(SFT.Options(model="m", arg=("learning_rate=1",)), SFT)
    result = CliRunner().invoke(cli, ["train", "sft", "--data", "d"])
    assert result.exit_code != 0 and "Missing option '--model'" in result.output


def test_train_config_recipes_reproduce_the_card(captured):
    run("sft", "--config", str(RECIPES / "train-sft.toml"))
    run("dpo", "--config", str(RECIPES / "train-dpo.toml"))
    sft, dpo = captured
    # The card's SFT command, flag by flag, as trl's config receives it.
    kwargs = trl_kwargs(sft, SFT)
    card_sft = {
        "num_train_epochs": 1,
        "logging_steps": 1,
        "save_strategy": "steps",
        "save_steps": 200,
        "save_total_limit": 5,
        "data_seed": 42,
        "eval_strategy": "steps",
        "eval_steps": 200,
        "dataloader_num_workers": 3,
        "bf16": True,
        "optim": "adamw_torch",
        "lr_scheduler_type": "linear",
        "max_length": 4096,
        "per_device_train_batch_size": 8,
        "learning_rate": 3.5e-7,
        "warmup_steps": 0.005,
        "adam_beta2": 0.999,
        "max_grad_norm": 0.3,
        "weight_decay": 0.001,
        "seed": 42,
        "report_to": ["wandb"],
        "activation_checkpointing": True,
        "gradient_accumulation_steps": 4,
        "ddp_find_unused_parameters": False,
    }
    assert {k: kwargs[k] for k in card_sft} == card_sft
    assert kwargs["model_init_kwargs"]["attn_implementation"] == "flash_attention_2"
    assert (sft.eval_fraction, sft.over_length, sft.lora, sft.load_in_4bit) == (0.0006, "truncate", False, False)
    # The card's DPO command.
    kwargs = trl_kwargs(dpo, DPO)
    card_dpo = {
        "learning_rate": 3e-7,
        "per_device_train_batch_size": 2,
        "gradient_accumulation_steps": 4,
        "max_length": 4096,
        "num_train_epochs": 3,
        "report_to": ["wandb"],
        "activation_checkpointing": True,
        "eval_steps": 5,
        "save_steps": 25,
        "save_total_limit": 5,
        "beta": 0.1,
    }
    assert {k: kwargs[k] for k in card_dpo} == card_dpo
    assert (dpo.max_prompt_length, dpo.eval_fraction, dpo.model) == (1024, 0.03, "bagel-7b-v0.1")
    # Both use the card's ZeRO-2 JSON, byte for byte the same settings.
    for options in (sft, dpo):
        assert json.loads(Path(options.deepspeed).read_text()) == CARD_ZERO2
