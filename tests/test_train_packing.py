"""``--packing`` (trl's best-fit packing) keeps every row's tokens and masks, token by token,
and padding-free batches restart positions at each packed row; with ``--multi-turn``."""

from __future__ import annotations

from collections import Counter

from bagel_core.builtin.train import common as train_common
from bagel_core.builtin.train.sft import SFT


def test_train_packing_keeps_rows_and_masks(tiny_llama, bagel_sample_out, tmp_path):
    common = dict(
        model=str(tiny_llama),
        data=str(bagel_sample_out),
        output_dir=str(tmp_path / "p"),
        max_length=256,
        over_length="drop",
        gradient_checkpointing=False,
        chat_format="chatml",
        multi_turn=True,
        save_steps=1000,
        max_steps=2,
        per_device_train_batch_size=2,
        learning_rate=1e-3,
    )
    plain = SFT(SFT.Options(**common)).build()
    opts = SFT.Options(**common, packing=True)
    packed = SFT(opts).build()

    def labelled(ids, labels):
        return tuple(zip(ids, labels))

    rows = Counter(labelled(r["input_ids"], r["labels"]) for r in plain.train_dataset)
    segments: Counter = Counter()
    for row in packed.train_dataset:
        assert len(row["input_ids"]) <= 256 and sum(row["seq_lengths"]) == len(row["input_ids"])
        start = 0
        for n in row["seq_lengths"]:
            segments[labelled(row["input_ids"][start : start + n], row["labels"][start : start + n])] += 1
            start += n
    # The same sequences with the same labels (-100 on every prompt token), only grouped.
    assert segments == rows
    assert len(packed.train_dataset) < 0.7 * len(plain.train_dataset)  # 359 of 607 here

    # Padding-free batches: one flat sequence whose positions restart at each packed row.
    examples = [packed.train_dataset[i] for i in range(2)]
    batch = packed.data_collator(examples)
    assert batch["input_ids"].shape[0] == 1
    lengths = [n for e in examples for n in e["seq_lengths"]]
    positions = batch["position_ids"][0].tolist()
    assert positions == [p for n in lengths for p in range(n)]
    train_common.train_and_save(packed, opts)  # trains on CPU (positions keep the rows apart only with flash-attention)
    assert (tmp_path / "p" / "model.safetensors").is_file()
