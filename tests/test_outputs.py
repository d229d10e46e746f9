"""The output configs as the ecosystem reads them: ``datasets.load_dataset(out, NAME)`` for every
config, trl's trainers on them as written, and the conversations config against the items as
loaded."""

from __future__ import annotations

import json
from pathlib import Path

import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from bagel_core.config import RunConfig
from bagel_core.pipeline import run
from bagel_core.plugins import load_plugins
from bagel_core.stages.conversations import as_messages

#: Sources with multi-turn conversations, system prompts, plain text and DPO pairs.
SAMPLE = dict(sources="local,capybara,airoboros,gutenberg,mmlu", dpo="truthy-dpo,helpsteer", formats="all", sample=True)


@pytest.fixture(scope="module")
def sample_out(tmp_path_factory) -> Path:
    out = tmp_path_factory.mktemp("sample") / "out"
    run(RunConfig(out=out, **SAMPLE), load_plugins()[1])
    return out


def load(out: Path, config: str, tmp_path: Path):
    """``load_dataset(out, config)`` with a cache of this test's own."""
    import datasets

    return datasets.load_dataset(str(out), config, split="train", cache_dir=str(tmp_path / "hf-cache"))


def test_every_config_loads_with_its_card_features(sample_out, tmp_path):
    from huggingface_hub import DatasetCard

    card = DatasetCard.load(sample_out / "README.md")
    declared = {c["config_name"] for c in card.data.configs}
    assert declared == {"sft", "dpo", "conversations", "contamination"}
    features = {info["config_name"]: info["features"] for info in card.data.dataset_info}
    for name in sorted(declared):
        rows = load(sample_out, name, tmp_path)
        assert rows.column_names == [f["name"] for f in features[name]], name
    assert len(load(sample_out, "sft", tmp_path)) > 0 and len(load(sample_out, "conversations", tmp_path)) > 0


def test_sft_prompt_completion_are_the_rendered_input_output(sample_out):
    table = pq.read_table(sample_out / "sft.parquet")
    assert table.column("prompt").equals(table.column("input"))
    assert table.column("completion").equals(table.column("output"))


def _kept_conversations(out: Path) -> dict[str, list[dict]]:
    """The SFT items the dedup stage kept (no decontamination in this run), as loaded."""
    (stage,) = (out / ".bagel-work" / "dedup").glob("*/sft.parquet")
    rows = pq.read_table(stage, columns=["id", "conversations"]).to_pylist()
    return {row["id"]: row["conversations"] for row in rows if row["conversations"]}


def test_conversations_round_trip_multi_turn_items_exactly(sample_out, tmp_path):
    rows = load(sample_out, "conversations", tmp_path)
    loaded = _kept_conversations(sample_out)
    back = {"system": "system", "user": "human", "assistant": "gpt"}
    multi = 0
    for row in rows:
        turns = [{"from": back[m["role"]], "value": m["content"]} for m in row["messages"]]
        assert turns == loaded[row["id"]]
        multi += sum(m["role"] == "assistant" for m in row["messages"]) > 1
    assert len(rows) == len(loaded)
    assert multi >= 3  # capybara and the local sample are multi-turn
    # One row per SFT conversation; the plain-text items (gutenberg's, the local sample's) are
    # counted, not written: in sft.parquet they are the rows with an empty input.
    manifest = json.loads((sample_out / "manifest.json").read_text())
    assert len(rows) == manifest["totals"]["conversations_rows"]
    plain = pq.read_table(sample_out / "sft.parquet", filters=[("input", "==", "")]).num_rows // len(manifest["formats"])
    assert plain >= 3 and manifest["totals"]["conversations_skipped_plain_text"] == plain


def test_as_messages_keeps_text_byte_for_byte():
    turns = [
        {"from": "system", "value": "  Be terse.\n"},
        {"from": "human", "value": "Two\n\n\n\nparagraphs"},
        {"from": "gpt", "value": "Kept:\n\n\n\nas is \t"},
    ]
    array = pa.array([turns, turns[1:]], pa.list_(pa.struct([("from", pa.string()), ("value", pa.string())])))
    messages = as_messages(array.slice(1, 1)).to_pylist()
    assert messages == [[{"role": "user", "content": "Two\n\n\n\nparagraphs"}, {"role": "assistant", "content": "Kept:\n\n\n\nas is \t"}]]
    bad = pa.array([[{"from": "bot", "value": "x"}]], array.type)
    with pytest.raises(ValueError, match="unknown role 'bot'"):
        as_messages(bad)


def _trainer_args(cls, tmp_path: Path, **extra):
    return cls(
        output_dir=str(tmp_path / "run"), max_steps=2, per_device_train_batch_size=2, max_length=128,
        report_to=["none"], save_strategy="no", logging_steps=1, use_cpu=True, **extra,
    )


def _trained(trainer) -> list[float]:
    result = trainer.train()
    losses = [h["loss"] for h in trainer.state.log_history if "loss" in h]
    assert result.global_step == 2 and len(losses) == 2 and all(loss > 0 for loss in losses)
    return losses


def test_trl_sft_trainer_trains_on_the_sft_config_as_written(sample_out, tiny_llama, tmp_path):
    from transformers import AutoTokenizer
    from trl import SFTConfig, SFTTrainer

    rows = load(sample_out, "sft", tmp_path)
    trainer = SFTTrainer(model=str(tiny_llama), args=_trainer_args(SFTConfig, tmp_path), train_dataset=rows, processing_class=AutoTokenizer.from_pretrained(tiny_llama))
    # trl read it as prompt-completion: the loss covers the completion only.
    example = trainer.train_dataset[0]
    assert {"input_ids", "labels"} <= set(example)
    assert 0 < sum(label != -100 for label in example["labels"]) < len(example["input_ids"])
    _trained(trainer)


def test_trl_sft_trainer_trains_on_the_conversations_config(sample_out, tiny_llama, tmp_path):
    from transformers import AutoTokenizer
    from trl import SFTConfig, SFTTrainer

    from bagel_core.cli import registry

    tokenizer = AutoTokenizer.from_pretrained(tiny_llama)
    # The model's own chat template; here bagel's chatml one, as `bagel chat-template chatml --into` writes.
    chatml = registry().get("format", "chatml").cls
    tokenizer.chat_template = chatml().chat_template()
    rows = load(sample_out, "conversations", tmp_path)
    trainer = SFTTrainer(model=str(tiny_llama), args=_trainer_args(SFTConfig, tmp_path), train_dataset=rows, processing_class=tokenizer)
    _trained(trainer)


def test_trl_dpo_trainer_trains_on_the_dpo_config_as_written(sample_out, tiny_llama, tmp_path):
    from transformers import AutoTokenizer
    from trl import DPOConfig, DPOTrainer

    rows = load(sample_out, "dpo", tmp_path)
    assert len(rows) >= 4
    trainer = DPOTrainer(model=str(tiny_llama), args=_trainer_args(DPOConfig, tmp_path), train_dataset=rows, processing_class=AutoTokenizer.from_pretrained(tiny_llama))
    _trained(trainer)
