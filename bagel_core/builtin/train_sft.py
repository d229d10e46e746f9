"""``bagel train sft``: supervised fine-tuning on bagel's ``sft.parquet`` with trl's SFTTrainer.

Each row's ``input`` (the rendered prompt) becomes trl's ``prompt`` and its ``output`` the
``completion``, so trl masks the prompt out of the loss and appends EOS to the completion.
Plain-text rows have an empty input: the whole text is trained on.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Optional

from ..components import Trainer
from . import train_common
from .train_common import TrainOptions


def _usable(row: dict[str, Any]) -> bool:
    return isinstance(row["prompt"], str) and isinstance(row["completion"], str) and bool(row["completion"].strip())


class SFT(Trainer):
    name = "sft"
    description = "Supervised fine-tuning on sft.parquet (trl SFTTrainer, loss on the output only; LoRA/QLoRA, DeepSpeed)"

    @dataclass
    class Options(TrainOptions):
        data: str = field(
            default="bagel-out/sft.parquet",
            metadata={"help": "sft.parquet, bagel's output folder, or any dataset with input/output columns."},
        )
        neftune_noise_alpha: Optional[float] = field(default=None, metadata={"help": "NEFTune noise (e.g. 5)."})

    options: "SFT.Options"

    def build(self) -> Any:
        """The ready trl ``SFTTrainer`` (what :meth:`train` runs)."""
        from trl import SFTConfig, SFTTrainer

        opts = self.options
        rows = train_common.read_rows(opts.data, "sft.parquet")
        rows = train_common.select_rows(rows, {"input": "prompt", "output": "completion"}, _usable, "sft")
        train_rows, eval_rows = train_common.split_eval(rows, opts.eval_fraction, opts.seed)
        args = SFTConfig(
            **train_common.config_kwargs(opts, has_eval=eval_rows is not None),
            completion_only_loss=True,
            neftune_noise_alpha=opts.neftune_noise_alpha,
        )
        quantization = train_common.quantization_config(opts)
        return SFTTrainer(
            model=train_common.model_source(opts.model),
            args=args,
            train_dataset=train_rows,
            eval_dataset=eval_rows,
            processing_class=train_common.load_tokenizer(opts.model, opts.chat_format),
            peft_config=train_common.lora_config(opts),
            quantization_config=quantization,
        )

    def train(self) -> None:
        train_common.train_and_save(self.build(), self.options)
