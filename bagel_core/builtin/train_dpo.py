"""``bagel train dpo``: preference tuning on bagel's ``dpo.parquet`` with trl's DPOTrainer.

With ``--lora`` the reference model is the policy with its adapter disabled (trl does this
when no reference model is given), so no second copy of the model is loaded.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Literal, Optional

from ..components import Trainer
from . import train_common
from .train_common import TrainOptions

LossType = Literal[
    "sigmoid", "hinge", "ipo", "exo_pair", "nca_pair", "robust", "bco_pair", "sppo_hard",
    "aot", "aot_unpaired", "apo_zero", "apo_down", "discopop", "sigmoid_norm",
]


def _usable(row: dict[str, Any]) -> bool:
    return all(isinstance(row[c], str) and row[c].strip() for c in ("prompt", "chosen", "rejected"))


def truncate_prompt(prompt: str, tokenizer: Any, max_tokens: int) -> str:
    """The end of ``prompt`` that fits ``max_tokens`` tokens (its start is cut, as trl did
    before it dropped ``max_prompt_length``): the question nearest the answer is kept."""
    ids = tokenizer(prompt, add_special_tokens=False)["input_ids"]
    if len(ids) <= max_tokens:
        return prompt
    return tokenizer.decode(ids[len(ids) - max_tokens:])


class DPO(Trainer):
    name = "dpo"
    description = "DPO on dpo.parquet (trl DPOTrainer; from the SFT output or any model; LoRA/QLoRA, DeepSpeed)"

    @dataclass
    class Options(TrainOptions):
        data: str = field(
            default="bagel-out/dpo.parquet",
            metadata={"help": "dpo.parquet, bagel's output folder, or any dataset with prompt/chosen/rejected."},
        )
        output_dir: str = "bagel-dpo"
        chat_format: Optional[str] = field(
            default=None,
            metadata={"help": "Prompt format whose chat template the saved tokenizer carries [the model's own, else llama-2]."},
        )
        learning_rate: float = 5e-7
        per_device_train_batch_size: int = 2
        num_train_epochs: float = 3.0
        beta: float = field(default=0.1, metadata={"help": "Strength of the pull towards the reference model."})
        loss_type: LossType = "sigmoid"
        max_prompt_length: Optional[int] = field(
            default=1024, metadata={"help": "Prompts longer than this many tokens keep their end."}
        )

    options: "DPO.Options"

    def build(self) -> Any:
        """The ready trl ``DPOTrainer`` (what :meth:`train` runs)."""
        from trl import DPOConfig, DPOTrainer

        opts = self.options
        columns = {"prompt": "prompt", "chosen": "chosen", "rejected": "rejected"}
        rows = train_common.select_rows(train_common.read_rows(opts.data, "dpo.parquet"), columns, _usable, "dpo")
        tokenizer = train_common.load_tokenizer(opts.model, opts.chat_format)
        if opts.max_prompt_length:
            rows = rows.map(lambda r: {"prompt": truncate_prompt(r["prompt"], tokenizer, opts.max_prompt_length)})
        train_rows, eval_rows = train_common.split_eval(rows, opts.eval_fraction, opts.seed)
        args = DPOConfig(
            **train_common.config_kwargs(opts, has_eval=eval_rows is not None),
            beta=opts.beta,
            loss_type=[opts.loss_type],
        )
        model = train_common.model_source(opts.model)
        # trl would rebuild the reference from the config's base id, not from the merged SFT
        # adapter: give it its own merged copy (with --lora the disabled adapter is the reference).
        merged = not isinstance(model, str) and not opts.lora
        return DPOTrainer(
            model=model,
            ref_model=train_common.model_source(opts.model) if merged else None,
            args=args,
            train_dataset=train_rows,
            eval_dataset=eval_rows,
            processing_class=tokenizer,
            peft_config=train_common.lora_config(opts),
            quantization_config=train_common.quantization_config(opts),
        )

    def train(self) -> None:
        train_common.train_and_save(self.build(), self.options)
