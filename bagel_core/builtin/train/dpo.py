"""``bagel train dpo``: preference tuning on bagel's ``dpo.parquet`` with trl's DPOTrainer.

With ``--lora`` the reference model is the policy with its adapter disabled (trl does this
when no reference model is given), so no second copy of the model is loaded. bagel tokenizes
the pairs itself (prompt and answers apart, see :mod:`.data`); trl's trainer takes the
token ids as they are.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Literal

from bagel_core.builtin.train import data as train_data
from bagel_core.builtin.train.common import TrainOptions, TrlTrainer, quantization_config

LossType = Literal[
    "sigmoid",
    "hinge",
    "ipo",
    "exo_pair",
    "nca_pair",
    "robust",
    "bco_pair",
    "sppo_hard",
    "aot",
    "aot_unpaired",
    "apo_zero",
    "apo_down",
    "discopop",
    "sigmoid_norm",
]


@dataclass
class PreferenceOptions(TrainOptions):
    """Options of the trainers on preference pairs (dpo, orpo, kto)."""

    data: str = field(
        default="bagel-out/dpo.parquet",
        metadata={"help": "dpo.parquet, bagel's output folder, or any dataset with prompt/chosen/rejected."},
    )
    output_dir: str = "bagel-dpo"
    chat_format: str | None = field(
        default=None,
        metadata={
            "help": "Prompt format whose chat template the saved tokenizer carries [the model's own, else llama-2]."
        },
    )
    learning_rate: float = 5e-7
    per_device_train_batch_size: int = 2
    num_train_epochs: float = 3.0
    beta: float = field(default=0.1, metadata={"help": "Strength of the pull towards the reference model."})
    max_prompt_length: int | None = field(
        default=1024, metadata={"help": "A pair over --max-length keeps this many of its prompt's last tokens."}
    )


def pretokenized(trainer_cls: type) -> type:
    """``trainer_cls`` taking bagel's token ids as they are instead of tokenizing the text again."""

    class Pretokenized(trainer_cls):  # type: ignore[misc, valid-type]
        def _prepare_dataset(self, dataset: Any, *args: Any, **kwargs: Any) -> Any:
            return dataset

    Pretokenized.__name__ = Pretokenized.__qualname__ = trainer_cls.__name__
    return Pretokenized


class DPO(TrlTrainer):
    name = "dpo"
    description = "DPO on dpo.parquet (trl DPOTrainer; from the SFT output or any model; LoRA/QLoRA, DeepSpeed)"
    data_file = "dpo.parquet"
    columns = {"prompt": "prompt", "chosen": "chosen", "rejected": "rejected"}
    required = ("prompt", "chosen", "rejected")

    @dataclass
    class Options(PreferenceOptions):
        loss_type: LossType = "sigmoid"

    options: DPO.Options

    def trl_classes(self) -> tuple[type, type]:
        from trl import DPOConfig, DPOTrainer

        return DPOConfig, pretokenized(DPOTrainer)

    def tokenize(self, rows: Any, tokenizer: Any) -> tuple[Any, train_data.LengthReport]:
        opts = self.options
        return train_data.pair_dataset(
            rows,
            tokenizer,
            max_length=opts.max_length,
            max_prompt_length=opts.max_prompt_length,
            over_length=opts.over_length,
            num_proc=opts.dataset_num_proc,
        )

    def method_config(self) -> dict[str, Any]:
        return dict(beta=self.options.beta, loss_type=[self.options.loss_type])

    def trainer_kwargs(self) -> dict[str, Any]:
        return {"quantization_config": quantization_config(self.options)}
