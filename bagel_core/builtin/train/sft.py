"""``bagel train sft``: supervised fine-tuning on bagel's ``sft.parquet`` with trl's SFTTrainer.

Each row's ``input`` (the rendered prompt) is masked out of the loss and its ``output`` and EOS
trained on; bagel tokenizes them apart (see :mod:`.data`), so the prompt's tokens are the
ones inference feeds the model. Plain-text rows have an empty input: the whole text is trained
on. ``--multi-turn`` trains every assistant turn of a conversation in one sequence instead of
one row per turn; ``--packing`` / ``--padding-free`` are trl's.
"""

from __future__ import annotations

import sys
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from bagel_core.builtin.train import data as train_data
from bagel_core.builtin.train.common import TrainingSetupError, TrainOptions, TrlTrainer


class SFT(TrlTrainer):
    name = "sft"
    description = (
        "Supervised fine-tuning on sft.parquet (trl SFTTrainer, loss on the output only; LoRA/QLoRA, DeepSpeed)"
    )

    @dataclass
    class Options(TrainOptions):
        data: str = field(
            default="bagel-out/sft.parquet",
            metadata={
                "help": "sft.parquet, bagel's output folder, or any dataset with prompt/completion (or input/output) columns."
            },
        )
        neftune_noise_alpha: float | None = field(default=None, metadata={"help": "NEFTune noise (e.g. 5)."})
        multi_turn: bool = field(
            default=False,
            metadata={
                "help": "One sequence per conversation (item and format), loss on every assistant turn, the rest masked."
            },
        )
        packing: bool = field(
            default=False, metadata={"help": "Pack rows into --max-length sequences (trl best-fit packing)."}
        )
        padding_free: bool = field(
            default=False, metadata={"help": "Batches as one flat sequence without padding (flash-attention)."}
        )
        hold_out_dpo_eval: float | None = field(
            default=None,
            metadata={
                "help": "Leave out the items `bagel train dpo --eval-fraction F` (same --seed, the dpo.parquet beside --data) evaluates on."
            },
        )

    options: SFT.Options

    def held_out_items(self) -> set[str]:
        """With ``--hold-out-dpo-eval F``: the items the DPO phase will evaluate on (its split
        is deterministic from its data, F and the seed), so DPO's eval never saw SFT training."""
        opts = self.options
        if not opts.hold_out_dpo_eval:
            return set()
        from bagel_core.builtin.train.dpo import DPO

        data = Path(opts.data)
        dpo_data = (data if data.is_dir() else data.parent) / DPO.data_file
        if not dpo_data.is_file():
            raise TrainingSetupError(f"--hold-out-dpo-eval: no {DPO.data_file} beside --data {opts.data}")
        dpo = DPO(
            DPO.Options(model=opts.model, data=str(dpo_data), eval_fraction=opts.hold_out_dpo_eval, seed=opts.seed)
        )
        return set(dpo.eval_item_ids())

    def trl_classes(self) -> tuple[type, type]:
        from trl import SFTConfig, SFTTrainer

        return SFTConfig, SFTTrainer

    def tokenize(self, rows: Any, tokenizer: Any) -> tuple[Any, train_data.LengthReport]:
        opts = self.options
        return train_data.sft_dataset(
            rows,
            tokenizer,
            max_length=opts.max_length,
            over_length=opts.over_length,
            multi_turn=opts.multi_turn,
            num_proc=opts.dataset_num_proc,
        )

    def method_config(self) -> dict[str, Any]:
        opts = self.options
        if (opts.packing or opts.padding_free) and not (opts.attn_implementation or "").startswith("flash_attention"):
            # The flat batch only keeps its rows apart through flash-attention's per-row lengths.
            print(
                "warning: --packing/--padding-free without --attn-implementation flash_attention_2: "
                "packed rows attend to each other",
                file=sys.stderr,
            )
        return dict(
            completion_only_loss=True,
            neftune_noise_alpha=opts.neftune_noise_alpha,
            packing=opts.packing,
            padding_free=opts.padding_free,
        )

    def trainer_kwargs(self) -> dict[str, Any]:
        from bagel_core.builtin.train.common import quantization_config

        return {"quantization_config": quantization_config(self.options)}
