"""``bagel train sft`` on a tiny local Llama: prompt masking, overfitting, the saved chat
template, LoRA adapters, and clear errors for unusable inputs."""

from __future__ import annotations

import dataclasses
import json
from pathlib import Path

import pandas as pd
import pytest

from bagel_core.builtin.train import common as train_common
from bagel_core.builtin.train.sft import SFT
from bagel_core.rendering import at_token_boundary

QA = [{"input": f"USER: What is {i} plus {i}?\nASSISTANT: ", "output": f"{i} plus {i} is {2 * i}."} for i in range(7)]
PLAIN = {"input": "", "output": "Red leaves drift and fall."}
MALFORMED = [
    {"input": "USER: Empty answer?\nASSISTANT: ", "output": ""},
    {"input": "USER: No answer?\nASSISTANT: ", "output": None},
]


def fast(model: Path, data: Path, out: Path, **overrides) -> SFT.Options:
    """Options for a seconds-long CPU run."""
    values = dict(
        model=str(model),
        data=str(data),
        output_dir=str(out),
        max_length=128,
        gradient_checkpointing=False,
        lr_scheduler_type="constant",
        warmup_ratio=0.0,
        learning_rate=3e-3,
        save_steps=1000,
        logging_steps=1,
    )
    return SFT.Options(**{**values, **overrides})


def losses(out: Path) -> list[float]:
    history = json.loads((out / "trainer_state.json").read_text())["log_history"]
    return [h["loss"] for h in history if "loss" in h]


@pytest.fixture
def sft_data(tmp_path: Path) -> Path:
    path = tmp_path / "sft.parquet"
    pd.DataFrame([*QA, PLAIN, *MALFORMED]).to_parquet(path)
    return path


def test_train_sft_masks_the_input_and_overfits(tiny_llama, sft_data, tmp_path, capsys):
    from transformers import AutoModelForCausalLM, AutoTokenizer

    from bagel_core import registry

    out = tmp_path / "sft"
    opts = fast(tiny_llama, sft_data.parent, out, max_steps=30, chat_format="llama-2")
    trainer = SFT(opts).build()
    assert "skipped 2 malformed sft row(s)" in capsys.readouterr().err
    assert len(trainer.train_dataset) == 8

    # The loss covers the output and EOS; the prompt (with BOS) is -100, and its tokens are
    # exactly the prompt's own (what inference feeds the model), the output tokenized apart,
    # after the cut on a token boundary (the input's trailing space begins the output).
    tokenizer = trainer.processing_class
    batch = trainer.data_collator([trainer.train_dataset[i] for i in range(8)])
    rows = [*QA, PLAIN]
    for ids, labels, row in zip(batch["input_ids"].tolist(), batch["labels"].tolist(), rows):
        prompt, output = at_token_boundary(row["input"], row["output"])
        prompt_ids = tokenizer(prompt)["input_ids"]
        masked = next(i for i, label in enumerate(labels) if label != -100)
        assert masked == len(prompt_ids) and ids[:masked] == prompt_ids
        trained = [label for label in labels[masked:] if label != -100]
        assert trained == ids[masked : masked + len(trained)]
        assert trained == tokenizer(output, add_special_tokens=False)["input_ids"] + [tokenizer.eos_token_id]
    plain_labels = batch["labels"].tolist()[7]
    assert plain_labels[0] == -100 and plain_labels[1] != -100  # plain text: only BOS is masked

    train_common.train_and_save(trainer, opts)
    history = losses(out)
    assert len(history) == 30
    assert history[-1] < history[0] / 4, history

    # The saved tokenizer prompts the model the way the llama-2 rows were rendered.
    saved = AutoTokenizer.from_pretrained(out)
    fmt = registry.current().get("format", "llama-2").cls(special=train_common.special_tokens(saved))
    # It writes the BOS the tokenizer adds to a row, so tokenize=True gives the trained ids.
    assert saved.chat_template == "{{- bos_token -}}" + fmt.chat_template()
    messages = [{"role": "system", "content": "Be brief."}, {"role": "user", "content": "Hi?"}]
    assert saved.apply_chat_template(messages, tokenize=False, add_generation_prompt=True) == "<s>" + fmt.render(
        messages
    )
    ids = saved.apply_chat_template(messages, add_generation_prompt=True, return_dict=True)["input_ids"]
    assert list(ids) == saved(fmt.render(messages))["input_ids"]
    assert AutoModelForCausalLM.from_pretrained(out).config.num_hidden_layers == 2


def test_train_sft_lora_saves_an_adapter_that_loads(tiny_llama, sft_data, tmp_path):
    import torch
    from peft import PeftModel
    from transformers import AutoModelForCausalLM

    out = tmp_path / "lora"
    opts = fast(
        tiny_llama,
        sft_data,
        out,
        max_steps=4,
        lora=True,
        lora_r=4,
        lora_alpha=8,
        lora_target_modules=("q_proj,v_proj",),
        learning_rate=1e-2,
        chat_format="llama-2",
    )
    SFT(opts).train()
    assert (out / "adapter_config.json").is_file() and (out / "adapter_model.safetensors").is_file()
    assert not (out / "model.safetensors").exists()
    assert json.loads((out / "adapter_config.json").read_text())["r"] == 4

    model = PeftModel.from_pretrained(AutoModelForCausalLM.from_pretrained(tiny_llama), out)
    lora_b = {n: p for n, p in model.named_parameters() if "lora_B" in n}
    assert len(lora_b) == 4 and all("q_proj" in n or "v_proj" in n for n in lora_b)  # 2 layers x 2 modules
    # LoRA's B starts at zero: trained weights moved it.
    assert any(p.abs().sum() > 0 for p in lora_b.values())
    with torch.no_grad():
        assert model(torch.tensor([[1, 5, 6]])).logits.shape[-1] == model.config.vocab_size

    # --resume-from-checkpoint last picks up the latest checkpoint in --output-dir.
    assert (out / "checkpoint-4").is_dir()
    SFT(dataclasses.replace(opts, max_steps=6, resume_from_checkpoint="last")).train()
    state = json.loads((out / "trainer_state.json").read_text())
    assert state["global_step"] == 6
    assert [h["step"] for h in state["log_history"] if "loss" in h] == [1, 2, 3, 4, 5, 6]


def test_train_sft_qlora_errors_are_clear(tiny_llama, sft_data, tmp_path):
    with pytest.raises(train_common.TrainingSetupError, match="add --lora"):
        train_common.quantization_config(fast(tiny_llama, sft_data, tmp_path, load_in_4bit=True))
    # This machine has no CUDA GPU (and maybe no bitsandbytes): either is named.
    with pytest.raises(train_common.TrainingSetupError, match="bitsandbytes|GPU"):
        train_common.quantization_config(fast(tiny_llama, sft_data, tmp_path, load_in_4bit=True, lora=True))


def test_train_sft_bad_inputs(tiny_llama, tmp_path):
    with pytest.raises(train_common.TrainingSetupError, match="missing.parquet"):
        SFT(fast(tiny_llama, tmp_path / "missing.parquet", tmp_path / "o")).build()
    wrong = tmp_path / "wrong.parquet"
    pd.DataFrame([{"prompt": "a", "chosen": "b", "rejected": "c"}]).to_parquet(wrong)
    with pytest.raises(train_common.TrainingSetupError, match="lacks column"):
        SFT(fast(tiny_llama, wrong, tmp_path / "o")).build()
    data = tmp_path / "sft.parquet"
    pd.DataFrame(QA).to_parquet(data)
    with pytest.raises(train_common.TrainingSetupError, match="unknown format 'nope'"):
        SFT(fast(tiny_llama, data, tmp_path / "o", chat_format="nope")).build()
