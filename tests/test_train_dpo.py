"""``bagel train dpo`` on a tiny local Llama: the reward margin grows, a LoRA run uses the
disabled adapter as its reference (no second model), and a DPO adapter trained on an SFT
adapter reloads as exactly the trained model."""

from __future__ import annotations

import json
from pathlib import Path

import pandas as pd
import pytest

from bagel_core.builtin.train import common as train_common
from bagel_core.builtin.train.dpo import DPO
from bagel_core.builtin.train.sft import SFT

PAIRS = [
    {
        "prompt": "USER: What causes the seasons on Earth?\nASSISTANT: ",
        "chosen": "The tilt of Earth's axis.",
        "rejected": "The distance to the sun.",
    },
    {
        "prompt": "USER: Name three primary colors.\nASSISTANT: ",
        "chosen": "Red, blue and yellow.",
        "rejected": "Green, purple and orange.",
    },
    {
        "prompt": "USER: What is the capital of France?\nASSISTANT: ",
        "chosen": "The capital of France is Paris.",
        "rejected": "I cannot answer that.",
    },
    {"prompt": "USER: What is two plus three?\nASSISTANT: ", "chosen": "Five.", "rejected": "Seven, or maybe six."},
]


def fast(model: Path, data: Path, out: Path, **overrides) -> DPO.Options:
    values = dict(
        model=str(model),
        data=str(data),
        output_dir=str(out),
        max_length=128,
        gradient_checkpointing=False,
        lr_scheduler_type="constant",
        warmup_ratio=0.0,
        learning_rate=1e-3,
        save_steps=1000,
        per_device_train_batch_size=4,
        chat_format="llama-2",
    )
    return DPO.Options(**{**values, **overrides})


def margins(out: Path) -> list[float]:
    history = json.loads((out / "trainer_state.json").read_text())["log_history"]
    return [h["rewards/margins"] for h in history if "rewards/margins" in h]


@pytest.fixture
def dpo_data(tmp_path: Path) -> Path:
    path = tmp_path / "dpo.parquet"
    pd.DataFrame([*PAIRS, {"prompt": "USER: Hm?\nASSISTANT: ", "chosen": None, "rejected": "x"}]).to_parquet(path)
    return path


def test_train_dpo_raises_the_reward_margin(tiny_llama, dpo_data, tmp_path, capsys):
    out = tmp_path / "dpo"
    opts = fast(tiny_llama, dpo_data, out, max_steps=10, beta=0.1)
    trainer = DPO(opts).build()
    assert "skipped 1 malformed dpo row(s)" in capsys.readouterr().err
    assert trainer.ref_model is not None  # a full fine-tune keeps a frozen copy as reference
    assert trainer.args.beta == 0.1 and trainer.args.loss_type == ["sigmoid"]
    train_common.train_and_save(trainer, opts)
    history = margins(out)
    assert history[0] == pytest.approx(0.0, abs=1e-6)  # policy == reference at the start
    assert history[-1] > 1.0 and history == sorted(history), history
    assert (out / "model.safetensors").is_file()


def logits(model, tokenizer) -> torch.Tensor:
    import torch

    ids = tokenizer([p["prompt"] + p["chosen"] for p in PAIRS], return_tensors="pt", padding=True)
    model.eval()
    with torch.no_grad():
        return model(**ids).logits


def test_train_dpo_lora_on_a_lora_sft_reloads_exactly(tiny_llama, dpo_data, tmp_path):
    import torch
    from click.testing import CliRunner
    from peft import AutoPeftModelForCausalLM
    from transformers import AutoModelForCausalLM

    from bagel_core.cli import cli

    sft_data = tmp_path / "sft.parquet"
    pd.DataFrame([{"input": p["prompt"], "output": p["chosen"]} for p in PAIRS]).to_parquet(sft_data)
    sft_out = tmp_path / "sft"
    SFT(
        SFT.Options(
            model=str(tiny_llama),
            data=str(sft_data),
            output_dir=str(sft_out),
            max_steps=2,
            max_length=128,
            gradient_checkpointing=False,
            lora=True,
            lora_r=4,
            chat_format="llama-2",
            save_steps=1000,
            learning_rate=1e-2,
            lr_scheduler_type="constant",
            warmup_ratio=0.0,
        )
    ).train()

    # DPO trains a new adapter on the SFT adapter merged into its base, saved in the output
    # folder; the LoRA reference is that model with the new adapter disabled.
    out = tmp_path / "dpo"
    opts = fast(sft_out, dpo_data, out, max_steps=6, lora=True, lora_r=8, learning_rate=1e-2, chat_format=None)
    trainer = DPO(opts).build()
    assert trainer.ref_model is None
    assert trainer.processing_class.chat_template == train_common.load_tokenizer(str(sft_out), None).chat_template
    train_common.train_and_save(trainer, opts)
    history = margins(out)
    assert history[0] == pytest.approx(0.0, abs=1e-6) and history[-1] > history[0]

    # The adapter names the merged SFT model as its base, so loading it the usual way gives
    # the trained model: the same logits (it named the bare base model before: up to 1.1 off).
    config = json.loads((out / "adapter_config.json").read_text())
    assert config["base_model_name_or_path"] == str((out / train_common.MERGED_BASE).resolve())
    tokenizer = trainer.processing_class
    trained = logits(trainer.model, tokenizer)
    reloaded = logits(AutoPeftModelForCausalLM.from_pretrained(out), tokenizer)
    assert torch.allclose(trained, reloaded, atol=1e-5)
    bare = logits(AutoModelForCausalLM.from_pretrained(tiny_llama), tokenizer)
    assert not torch.allclose(trained, bare, atol=1e-2)

    # bagel train merge: the adapter chain as one full model, same logits, loads without peft.
    merged = tmp_path / "merged"
    result = CliRunner().invoke(cli, ["train", "merge", "--adapter", str(out), "--output-dir", str(merged)])
    assert result.exit_code == 0, result.output
    assert result.output == f"saved the merged model and tokenizer to {merged}\n"  # no bars, warnings, DeepSpeed line
    assert not (merged / "adapter_config.json").exists()
    assert torch.allclose(logits(AutoModelForCausalLM.from_pretrained(merged), tokenizer), trained, atol=1e-5)

    # A full DPO from the adapter folder trains the merged SFT model, and its reference is
    # that model too, not the bare base its config names.
    full = DPO(fast(sft_out, dpo_data, tmp_path / "full", chat_format=None)).build()
    policy, reference = full.model.state_dict(), full.ref_model.state_dict()
    assert all(torch.equal(policy[k], reference[k]) for k in policy)
    base = AutoModelForCausalLM.from_pretrained(tiny_llama).state_dict()
    assert not all(torch.equal(base[k], reference[k]) for k in base)


# About 20 s (20 CPU seconds): two ranks under a real `accelerate launch`, each a Python importing trl.
def test_train_dpo_from_an_adapter_under_accelerate_launch(tiny_llama, dpo_data, tmp_path):
    """Two ranks (a real multi-process launch: gloo on CPU): the main one merges the adapter
    into base-model while the other waits, the new adapter names that folder, and the two
    ranks share the epoch (4 pairs, 2 per rank: one step is the whole epoch)."""
    import os
    import shutil
    import subprocess
    import sys

    from peft import LoraConfig, get_peft_model
    from transformers import AutoModelForCausalLM

    adapter = tmp_path / "sft-adapter"
    model = get_peft_model(AutoModelForCausalLM.from_pretrained(tiny_llama), LoraConfig(r=4, target_modules=["q_proj"]))
    model.save_pretrained(adapter)
    for name in ("tokenizer.json", "tokenizer_config.json"):
        shutil.copy(tiny_llama / name, adapter / name)
    out = tmp_path / "dpo"
    accelerate = Path(sys.executable).with_name("accelerate")
    command = [
        str(accelerate),
        "launch",
        "--multi_gpu",
        "--num_processes",
        "2",
        "--num_machines",
        "1",
        "--mixed_precision",
        "no",
        "--dynamo_backend",
        "no",
        "-m",
        "bagel_core",
        "train",
        "dpo",
        "--model",
        str(adapter),
        "--data",
        str(dpo_data),
        "--output-dir",
        str(out),
        "--max-steps",
        "1",
        "--max-length",
        "128",
        "--lora",
        "--lora-r",
        "4",
        "--no-gradient-checkpointing",
        "--save-steps",
        "1000",
        "--per-device-train-batch-size",
        "2",
    ]
    result = subprocess.run(
        command, capture_output=True, text=True, cwd=tmp_path, env={**os.environ, "HF_HUB_OFFLINE": "1"}
    )
    assert result.returncode == 0, result.stderr[-3000:]
    config = json.loads((out / "adapter_config.json").read_text())
    assert config["base_model_name_or_path"] == str((out / train_common.MERGED_BASE).resolve())
    assert (out / train_common.MERGED_BASE / "model.safetensors").is_file()
    state = json.loads((out / "trainer_state.json").read_text())
    assert state["global_step"] == 1 and state["log_history"][0]["epoch"] == 1.0  # one process: 0.5
