"""One rank of a distributed ``bagel train sft`` (run by the launcher in test_train_distributed.py):
trains, then writes what this rank saw: its world size, the steps of an epoch, a digest of its
weights."""

from __future__ import annotations

import hashlib
import json
import os
import sys
from pathlib import Path


def main(model: str, data: str, out: str) -> None:
    from bagel_core.builtin.train.common import train_and_save
    from bagel_core.builtin.train.sft import SFT

    opts = SFT.Options(
        model=model,
        data=data,
        output_dir=out,
        max_length=128,
        gradient_checkpointing=False,
        chat_format="llama-2",
        per_device_train_batch_size=2,
        num_train_epochs=1,
        learning_rate=1e-2,
        lr_scheduler_type="constant",
        warmup_ratio=0.0,
        save_steps=1000,
    )
    trainer = SFT(opts).build()
    train_and_save(trainer, opts)
    digest = hashlib.sha256()
    for name, tensor in sorted(trainer.model.state_dict().items()):
        digest.update(name.encode() + tensor.detach().cpu().float().numpy().tobytes())
    rank = int(os.environ.get("RANK", "0"))
    (Path(out) / f"rank{rank}.json").write_text(
        json.dumps(
            {
                "world_size": trainer.args.world_size,
                "rank": trainer.args.process_index,
                "steps": trainer.state.global_step,
                "weights": digest.hexdigest(),
            }
        )
    )


if __name__ == "__main__":
    main(*sys.argv[1:4])
