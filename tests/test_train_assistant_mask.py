"""bagel's chat templates mark assistant turns with `{% generation %}`, so trl's
`assistant_only_loss=True` trains on `conversations.parquet` (load_dataset(OUT, "conversations"))
with the user turns masked: run with trl's own SFTTrainer, per format."""

from __future__ import annotations

import pytest

FORMATS = [
    ("alpaca", None),
    ("alpaca", {"layout": "cards"}),
    ("vicuna", None),
    ("llama-2", None),
    ("chatml", None),
    ("chatml", {"im_markers": True}),
    ("chatml", {"variant": "v0.5"}),
]


@pytest.mark.parametrize("name, options", FORMATS)
def test_trl_assistant_only_loss_trains_the_answers_only(bagel_sample_out, tiny_llama, tmp_path, name, options):
    import datasets
    from transformers import AutoTokenizer
    from trl import SFTConfig, SFTTrainer

    from bagel_core.builtin.train.common import chat_template

    tokenizer = AutoTokenizer.from_pretrained(tiny_llama)
    tokenizer.chat_template = chat_template(name, tokenizer, options)
    rows = datasets.load_dataset(str(bagel_sample_out), "conversations", split="train").select(range(40))
    args = SFTConfig(
        output_dir=str(tmp_path), assistant_only_loss=True, max_length=None, report_to=["none"], use_cpu=True
    )
    trainer = SFTTrainer(model=str(tiny_llama), args=args, train_dataset=rows, processing_class=tokenizer)
    for row, encoded in zip(rows, trainer.train_dataset):
        trained = tokenizer.decode([t for t, label in zip(encoded["input_ids"], encoded["labels"]) if label != -100])
        for message in row["messages"]:
            if message["role"] == "assistant":
                assert message["content"].strip() in trained, (name, message)
            elif len(message["content"].strip()) > 12:
                assert message["content"].strip() not in trained, (name, message)
        if name in ("llama-2", "chatml"):  # formats that end an answer with EOS train it
            assert tokenizer.eos_token in trained or (options or {}).get("im_markers")
