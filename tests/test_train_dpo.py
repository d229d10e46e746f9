"""``bagel train dpo`` on a tiny local Llama: the reward margin grows, a LoRA run uses the
disabled adapter as its reference (no second model), long prompts keep their end."""

from __future__ import annotations

import json
from pathlib import Path

import pandas as pd
import pytest

from bagel_core.builtin import train_common
from bagel_core.builtin.train_dpo import DPO, truncate_prompt
from bagel_core.builtin.train_sft import SFT

PAIRS = [
    {"prompt": "USER: What causes the seasons on Earth?\nASSISTANT: ", "chosen": "The tilt of Earth's axis.", "rejected": "The distance to the sun."},
    {"prompt": "USER: Name three primary colors.\nASSISTANT: ", "chosen": "Red, blue and yellow.", "rejected": "Green, purple and orange."},
    {"prompt": "USER: What is the capital of France?\nASSISTANT: ", "chosen": "The capital of France is Paris.", "rejected": "I cannot answer that."},
    {"prompt": "USER: What is two plus three?\nASSISTANT: ", "chosen": "Five.", "rejected": "Seven, or maybe six."},
]


def fast(model: Path, data: Path, out: Path, **overrides) -> DPO.Options:
    values = dict(
        model=str(model), data=str(data), output_dir=str(out), max_length=128, gradient_checkpointing=False,
        lr_scheduler_type="constant", warmup_ratio=0.0, learning_rate=1e-3, save_steps=1000,
        per_device_train_batch_size=4, chat_format="llama-2",
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


def test_train_dpo_lora_from_a_lora_sft_uses_the_disabled_adapter(tiny_llama, dpo_data, tmp_path):
    import torch
    from transformers import AutoModelForCausalLM

    sft_data = tmp_path / "sft.parquet"
    pd.DataFrame([{"input": p["prompt"], "output": p["chosen"]} for p in PAIRS]).to_parquet(sft_data)
    sft_out = tmp_path / "sft"
    SFT(SFT.Options(
        model=str(tiny_llama), data=str(sft_data), output_dir=str(sft_out), max_steps=2, max_length=128,
        gradient_checkpointing=False, lora=True, lora_r=4, chat_format="llama-2", save_steps=1000,
        learning_rate=1e-2, lr_scheduler_type="constant", warmup_ratio=0.0,
    )).train()

    # DPO starts from the SFT adapter merged into its base; the LoRA reference is that model
    # with the new adapter disabled: no reference model is loaded.
    out = tmp_path / "dpo"
    opts = fast(sft_out, dpo_data, out, max_steps=6, lora=True, lora_r=8, learning_rate=1e-2, chat_format=None)
    trainer = DPO(opts).build()
    assert trainer.ref_model is None
    assert trainer.processing_class.chat_template == train_common.load_tokenizer(str(sft_out), None).chat_template
    train_common.train_and_save(trainer, opts)
    history = margins(out)
    assert history[0] == pytest.approx(0.0, abs=1e-6) and history[-1] > history[0]
    assert (out / "adapter_config.json").is_file()

    # A full DPO from the adapter folder gets the merged SFT model as its reference, not the
    # bare base model its config names.
    full = DPO(fast(sft_out, dpo_data, tmp_path / "full", chat_format=None)).build()
    policy, reference = full.model.state_dict(), full.ref_model.state_dict()
    assert all(torch.equal(policy[k], reference[k]) for k in policy)
    base = AutoModelForCausalLM.from_pretrained(tiny_llama).state_dict()
    assert not all(torch.equal(base[k], reference[k]) for k in base)


def test_train_dpo_long_prompts_keep_their_end(tiny_llama):
    from transformers import AutoTokenizer

    tokenizer = AutoTokenizer.from_pretrained(tiny_llama)
    prompt = "Red, blue and yellow. " * 20 + "USER: What is the capital of France?\nASSISTANT: "
    kept = truncate_prompt(prompt, tokenizer, 16)
    assert len(tokenizer(kept, add_special_tokens=False)["input_ids"]) == 16
    assert prompt.endswith(kept) and kept.endswith("capital of France?\nASSISTANT: ")
    assert truncate_prompt("USER: Hi\n", tokenizer, 16) == "USER: Hi\n"
