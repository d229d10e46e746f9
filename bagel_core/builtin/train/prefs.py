"""``bagel train orpo`` and ``bagel train kto``: the other preference methods on bagel's
``dpo.parquet``, through the same trainer hook and shared steps as sft and dpo.

ORPO (trl's experimental ORPOTrainer) needs no reference model: it adds an odds-ratio term to
the SFT loss on the chosen answer, so it can replace SFT + DPO with one run. KTO (trl's
KTOTrainer) learns from unpaired examples: each pair gives a desirable (chosen) and an
undesirable (rejected) completion of its prompt.

Over-length rows are counted by bagel and dropped with ``--over-length drop``, otherwise trl
truncates them. Both tokenize prompt and answer apart (bagel's rule, see :mod:`.data`).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from bagel_core.builtin.train import data as train_data
from bagel_core.builtin.train.common import TrlTrainer, quantization_config
from bagel_core.builtin.train.dpo import DPO, PreferenceOptions


class _TextPairs(TrlTrainer):
    """A preference trainer fed text rows (prompt/chosen/rejected), length-checked by bagel."""

    data_file = DPO.data_file
    columns = DPO.columns
    required = DPO.required
    options: PreferenceOptions

    def tokenize(self, rows: Any, tokenizer: Any) -> tuple[Any, train_data.LengthReport]:
        opts = self.options
        lengths = train_data.pair_lengths(rows, tokenizer, num_proc=opts.dataset_num_proc)
        kept, report = train_data.drop_long(rows, lengths, opts.max_length, opts.over_length)
        return self.as_rows(kept.select_columns(list(self.columns.values()))), report

    def as_rows(self, pairs: Any) -> Any:
        return pairs


def apart(trainer_cls: type) -> type:
    """trl's ORPOTrainer tokenizing prompt and answer apart (bagel's rule, see
    :mod:`.data`) instead of together: its prompt ids are then the inference prompt's.
    trl adds BOS and EOS to them as before."""

    class Apart(trainer_cls):  # type: ignore[misc, valid-type]
        def build_tokenized_answer(self, prompt: str, answer: str) -> dict[str, list[int]]:
            prompt_ids = self.processing_class(prompt, add_special_tokens=False)
            answer_ids = self.processing_class(answer, add_special_tokens=False)
            return {
                "prompt_input_ids": prompt_ids["input_ids"],
                "prompt_attention_mask": prompt_ids["attention_mask"],
                "input_ids": answer_ids["input_ids"],
                "attention_mask": answer_ids["attention_mask"],
            }

    Apart.__name__ = Apart.__qualname__ = trainer_cls.__name__
    return Apart


def kto_apart(trainer_cls: type) -> type:
    """trl's KTOTrainer with each row's prompt and completion tokenized apart (bagel's rule)
    after trl prepared the rows, and the KL completions paired again from those ids the way
    trl pairs them (rotated by one within each ``per_device_train_batch_size`` block)."""

    class Apart(trainer_cls):  # type: ignore[misc, valid-type]
        def _prepare_dataset(self, dataset: Any, processing_class: Any, args: Any, dataset_name: str) -> Any:
            dataset = super()._prepare_dataset(dataset, processing_class, args, dataset_name)

            def retokenize(batch: dict[str, list]) -> dict[str, list]:
                # trl appended EOS to the completion text: tokenized apart, it is the EOS id.
                out = {
                    "prompt_ids": [train_data.encode_prompt(processing_class, p) for p in batch["prompt"]],
                    "completion_ids": [
                        processing_class(c, add_special_tokens=False)["input_ids"] for c in batch["completion"]
                    ],
                }
                if "KL_completion_ids" in batch:
                    out["KL_completion_ids"] = out["completion_ids"][-1:] + out["completion_ids"][:-1]
                return out

            dataset = dataset.map(retokenize, batched=True, batch_size=args.per_device_train_batch_size)
            if args.max_length is not None:  # as trl: a prompt filling max_length leaves nothing to train
                dataset = dataset.filter(lambda ids: len(ids) < args.max_length, input_columns="prompt_ids")
            return dataset

    Apart.__name__ = Apart.__qualname__ = trainer_cls.__name__
    return Apart


class ORPO(_TextPairs):
    name = "orpo"
    description = "ORPO on dpo.parquet (trl ORPOTrainer, experimental: SFT + preference in one run, no reference model)"

    @dataclass
    class Options(PreferenceOptions):
        output_dir: str = "bagel-orpo"
        learning_rate: float = 8e-6
        beta: float = field(default=0.1, metadata={"help": "Weight of the odds-ratio term (lambda in the paper)."})

    def trl_classes(self) -> tuple[type, type]:
        from trl.experimental.orpo import ORPOConfig, ORPOTrainer

        return ORPOConfig, apart(ORPOTrainer)

    def method_config(self) -> dict[str, Any]:
        if self.options.load_in_4bit:
            from bagel_core.builtin.train.common import TrainingSetupError

            raise TrainingSetupError("--load-in-4bit: trl's ORPOTrainer takes no quantization config; use dpo or kto")
        return dict(beta=self.options.beta)


class KTO(_TextPairs):
    name = "kto"
    description = "KTO on dpo.parquet (trl KTOTrainer: chosen answers desirable, rejected undesirable)"

    @dataclass
    class Options(PreferenceOptions):
        output_dir: str = "bagel-kto"
        learning_rate: float = 5e-7
        per_device_train_batch_size: int = 4
        desirable_weight: float = 1.0
        undesirable_weight: float = 1.0

    options: Options

    def trl_classes(self) -> tuple[type, type]:
        from trl import KTOConfig, KTOTrainer

        return KTOConfig, kto_apart(KTOTrainer)

    def as_rows(self, pairs: Any) -> Any:
        """Each pair as two unpaired rows: ``(prompt, chosen, True)`` and ``(prompt, rejected, False)``."""

        def split(batch: dict[str, list]) -> dict[str, list]:
            n = len(batch["prompt"])
            return {
                "prompt": batch["prompt"] * 2,
                "completion": batch["chosen"] + batch["rejected"],
                "label": [True] * n + [False] * n,
            }

        return pairs.map(split, batched=True, remove_columns=pairs.column_names)

    def method_config(self) -> dict[str, Any]:
        opts = self.options
        return dict(beta=opts.beta, desirable_weight=opts.desirable_weight, undesirable_weight=opts.undesirable_weight)

    def trainer_kwargs(self) -> dict[str, Any]:
        return {"quantization_config": quantization_config(self.options)}
