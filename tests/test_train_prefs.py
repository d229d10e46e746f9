"""``bagel train orpo`` and ``bagel train kto``: the same trainer API as sft/dpo (data, eval
split by item, length report), trained a few steps on a tiny local Llama."""

from __future__ import annotations

import json
from pathlib import Path

import pandas as pd
import pytest

from bagel_core import registry
from bagel_core.builtin.train import common as train_common
from bagel_core.builtin.train import data as train_data
from bagel_core.builtin.train.prefs import KTO, ORPO
from bagel_core.rendering import at_token_boundary

PAIRS = [
    {
        "id": f"item-{i}",
        "prompt": f"USER: What is {i} plus {i}?\nASSISTANT: ",
        "chosen": f"{i} plus {i} is {2 * i}.",
        "rejected": f"I do not know what {i} plus {i} is.",
    }
    for i in range(8)
]


@pytest.fixture
def pairs(tmp_path: Path) -> Path:
    path = tmp_path / "dpo.parquet"
    pd.DataFrame(PAIRS).to_parquet(path)
    return path


def history(out: Path) -> list[dict]:
    return json.loads((out / "trainer_state.json").read_text())["log_history"]


@pytest.mark.parametrize("cls, metric", [(ORPO, "log_odds_ratio"), (KTO, "kl")])
def test_train_prefs_train_through_the_trainer_hook(cls, metric, tiny_llama, pairs, tmp_path):
    assert registry.current().get("trainer", cls.name).cls is cls
    out = tmp_path / cls.name
    opts = cls.Options(
        model=str(tiny_llama),
        data=str(pairs),
        output_dir=str(out),
        max_steps=4,
        max_length=128,
        eval_fraction=0.25,
        gradient_checkpointing=False,
        chat_format="vicuna",
        save_steps=1000,
        learning_rate=1e-3,
        lr_scheduler_type="constant",
        warmup_ratio=0.0,
        per_device_train_batch_size=4,
    )
    trainer = cls(opts).build()
    record = json.loads((out / train_data.REPORT_FILE).read_text())
    assert len(record["eval_ids"]) == 2 and record["train_items"] == 6
    if cls is KTO:  # each pair: a desirable and an undesirable row
        assert len(trainer.train_dataset) == 12 and sum(trainer.train_dataset["label"]) == 6
    train_common.train_and_save(trainer, opts)
    logs = history(out)
    losses = [h["loss"] for h in logs if "loss" in h]
    assert len(losses) == 4 and losses[-1] < losses[0], losses
    assert any(any(metric in k for k in h) for h in logs)
    assert (out / "model.safetensors").is_file()


def test_train_prefs_over_length_rows_are_counted(tiny_llama, pairs, tmp_path):
    opts = KTO.Options(
        model=str(tiny_llama),
        data=str(pairs),
        output_dir=str(tmp_path / "k"),
        max_length=24,
        over_length="drop",
        chat_format="vicuna",
        gradient_checkpointing=False,
    )
    kto = KTO(opts)
    rows = train_common.select_rows(train_common.read_rows(str(pairs), "dpo.parquet"), kto.columns, kto.usable, "kto")
    table, report = kto.tokenize(rows, train_common.load_tokenizer(str(tiny_llama), "vicuna"))
    assert report.over > 0 and report.dropped == report.over and len(table) == 2 * (len(rows) - report.dropped)


def test_train_prefs_prompt_ids_are_the_inference_prompt(tiny_llama, tmp_path):
    """vicuna's trailing space: trl's joint tokenization would cut the prompt's last token off;
    bagel cuts the text before the space (the answer begins with it), so the prompt's ids are
    the inference prompt's (the saved template ends with "ASSISTANT:") and a prefix of the
    joint tokenization, whatever the data."""
    from transformers import AutoTokenizer

    pairs = [
        {"prompt": "USER: Name the tilt.\nASSISTANT: ", "chosen": "the tilt of the axis.", "rejected": "capital."}
    ] * 4
    tokenizer = AutoTokenizer.from_pretrained(tiny_llama)
    prompt = tokenizer(pairs[0]["prompt"])["input_ids"]
    assert tokenizer(pairs[0]["prompt"] + pairs[0]["chosen"])["input_ids"][: len(prompt)] != prompt  # " the" merges
    path = tmp_path / "dpo.parquet"
    pd.DataFrame(pairs).to_parquet(path)
    opts = ORPO.Options(
        model=str(tiny_llama),
        data=str(path),
        output_dir=str(tmp_path / "o"),
        max_length=128,
        chat_format="vicuna",
        gradient_checkpointing=False,
    )
    trainer = ORPO(opts).build()
    tokenizer = trainer.processing_class
    inference = tokenizer.apply_chat_template(
        [{"role": "user", "content": "Name the tilt."}], add_generation_prompt=True, return_dict=True
    )["input_ids"]
    for row in trainer.train_dataset:
        prompt, chosen = at_token_boundary(row["prompt"], row["chosen"])
        prompt_ids = tokenizer(prompt)["input_ids"]
        assert row["prompt_input_ids"] == prompt_ids == list(inference)
        joint = tokenizer(prompt + chosen)["input_ids"]
        assert row["chosen_input_ids"] == joint + [tokenizer.eos_token_id]
        assert row["chosen_input_ids"][: len(prompt_ids)] == prompt_ids
        assert row["chosen_labels"][: len(prompt_ids)] == [-100] * len(prompt_ids)

    kto = KTO(
        KTO.Options(
            model=str(tiny_llama),
            data=str(path),
            output_dir=str(tmp_path / "k"),
            max_length=128,
            chat_format="vicuna",
            gradient_checkpointing=False,
            per_device_train_batch_size=4,
        )
    ).build()
    rows = kto.train_dataset
    assert len(rows) == 8
    for row in rows:
        prompt, completion = at_token_boundary(row["prompt"], row["completion"])
        prompt_ids = tokenizer(prompt)["input_ids"]
        assert row["prompt_ids"] == prompt_ids == list(inference)
        assert row["completion_ids"] == tokenizer(completion, add_special_tokens=False)["input_ids"]
        assert row["completion_ids"][-1] == tokenizer.eos_token_id
    # The KL completions: each row's mismatched completion is the previous row's, per batch of 4.
    completions, kl = rows["completion_ids"], rows["KL_completion_ids"]
    for start in range(0, len(rows), 4):
        block = completions[start : start + 4]
        assert kl[start : start + 4] == block[-1:] + block[:-1]
