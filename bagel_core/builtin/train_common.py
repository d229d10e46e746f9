"""What the sft and dpo trainers share: their common options, reading bagel's parquet output,
the tokenizer with its chat template, LoRA/QLoRA and DeepSpeed setup, and the trl arguments.

torch, transformers, trl and peft are imported inside the functions, so that importing the
trainer classes (``bagel --help``, ``bagel list-plugins``) stays light.
"""

from __future__ import annotations

import sys
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any, Callable, Literal, Optional, Union

from ..config import ConfigError
from . import deepspeed_configs

if TYPE_CHECKING:
    import datasets
    from transformers import PreTrainedTokenizerBase

    from ..components import SpecialTokens

DEFAULT_CHAT_FORMAT = "llama-2"


class TrainingSetupError(ConfigError):
    """A problem with the trainer's options or inputs; ``bagel train`` shows it as a one-line error."""


@dataclass
class TrainOptions:
    """Options of every bagel trainer; each field is a ``bagel train NAME --flag``."""

    model: str = field(metadata={"help": "Model to train: a local folder or a Hugging Face Hub id."})
    data: str = "bagel-out/sft.parquet"
    output_dir: str = "bagel-sft"
    chat_format: Optional[str] = field(
        default=DEFAULT_CHAT_FORMAT,
        metadata={"help": "Prompt format whose chat template the saved tokenizer carries (a registered format)."},
    )
    eval_fraction: float = field(default=0.0, metadata={"help": "Fraction of the rows held out for evaluation."})
    eval_steps: Optional[int] = field(default=None, metadata={"help": "Evaluate every N steps [each epoch]."})
    num_train_epochs: float = 1.0
    max_steps: int = field(default=-1, metadata={"help": "Stop after N optimizer steps (overrides epochs)."})
    learning_rate: float = 2e-5
    lr_scheduler_type: str = field(default="linear", metadata={"help": "linear, cosine, constant, constant_with_warmup, ..."})
    warmup_ratio: float = field(default=0.005, metadata={"help": "Fraction of the steps warming up the learning rate."})
    weight_decay: float = 0.0
    max_grad_norm: float = 1.0
    optim: str = "adamw_torch"
    per_device_train_batch_size: int = 8
    per_device_eval_batch_size: int = 8
    gradient_accumulation_steps: int = 1
    max_length: int = field(default=4096, metadata={"help": "Longest tokenized sequence; longer ones are truncated."})
    bf16: bool = field(default=False, metadata={"help": "bf16 mixed precision (GPUs)."})
    dtype: Literal["auto", "bfloat16", "float16", "float32"] = field(
        default="auto", metadata={"help": "dtype the model weights load in."}
    )
    gradient_checkpointing: bool = True
    attn_implementation: Optional[str] = field(
        default=None, metadata={"help": "eager, sdpa or flash_attention_2 [the model's default]."}
    )
    seed: int = 42
    logging_steps: int = 1
    save_steps: int = 200
    save_total_limit: Optional[int] = 5
    report_to: str = field(default="none", metadata={"help": "Comma-separated: wandb, tensorboard, ... or none."})
    dataloader_num_workers: int = 0
    resume_from_checkpoint: Optional[str] = field(
        default=None, metadata={"help": "A checkpoint folder, or 'last' for the latest in --output-dir."}
    )
    deepspeed: Optional[str] = field(
        default=None, metadata={"help": "zero2 or zero3 (built-in ZeRO configs), or a DeepSpeed JSON file."}
    )
    lora: bool = field(default=False, metadata={"help": "Train a LoRA adapter instead of all weights."})
    lora_r: int = 64
    lora_alpha: int = 16
    lora_dropout: float = 0.05
    lora_target_modules: tuple[str, ...] = field(
        default=("all-linear",), metadata={"help": "Modules LoRA adapts (repeat or comma-separate) [all-linear]."}
    )
    load_in_4bit: bool = field(default=False, metadata={"help": "QLoRA: load the base model in 4-bit (bitsandbytes, GPU)."})
    dataset_num_proc: Optional[int] = field(default=None, metadata={"help": "Processes tokenizing the data [one]."})


def read_rows(path: str, default_file: str) -> "datasets.Dataset":
    """The rows of a parquet/JSON(L)/CSV file, of ``default_file`` in a folder (bagel's output
    folder), or of a dataset on the Hub (``owner/name``, split ``train``)."""
    import datasets

    p = Path(path)
    if p.is_dir() and (p / default_file).is_file():
        p = p / default_file
    if p.is_file():
        suffix = p.suffix.lower().lstrip(".")
        builder = {"jsonl": "json", "json": "json", "csv": "csv"}.get(suffix, "parquet")
        return datasets.load_dataset(builder, data_files=str(p), split="train")
    try:
        return datasets.load_dataset(path, split="train")
    except Exception as exc:  # the Hub raises many types; say what to provide instead
        raise TrainingSetupError(
            f"cannot read training data {path!r} ({type(exc).__name__}: {exc}); pass --data with a "
            f"{default_file} file, bagel's output folder, or a Hub dataset id"
        ) from None


def select_rows(
    rows: "datasets.Dataset", columns: dict[str, str], keep: Callable[[dict[str, Any]], bool], what: str
) -> "datasets.Dataset":
    """The rows with the ``columns`` (source name -> trl name) renamed and nothing else; rows
    ``keep`` rejects are skipped with a count, never fatal."""
    missing = [c for c in columns if c not in rows.column_names]
    if missing:
        raise TrainingSetupError(f"{what} data lacks column(s) {', '.join(missing)}; has {', '.join(rows.column_names)}")
    rows = rows.select_columns(list(columns)).rename_columns({k: v for k, v in columns.items() if k != v})
    kept = rows.filter(keep)
    skipped = len(rows) - len(kept)
    if skipped:
        print(f"warning: skipped {skipped} malformed {what} row(s) (missing or empty text)", file=sys.stderr)
    if len(kept) == 0:
        raise TrainingSetupError(f"no usable {what} rows")
    return kept


def split_eval(rows: "datasets.Dataset", fraction: float, seed: int) -> tuple["datasets.Dataset", Optional["datasets.Dataset"]]:
    """Train rows and held-out eval rows (``None`` when ``fraction`` is 0)."""
    if not 0.0 <= fraction < 1.0:
        raise TrainingSetupError(f"--eval-fraction must be in [0, 1), got {fraction}")
    if fraction == 0.0:
        return rows, None
    split = rows.train_test_split(test_size=fraction, seed=seed)
    return split["train"], split["test"]


def special_tokens(tokenizer: "PreTrainedTokenizerBase") -> "SpecialTokens":
    """The BOS/EOS a prompt format writes for ``tokenizer``."""
    from ..components import SpecialTokens

    return SpecialTokens(
        bos=tokenizer.bos_token or SpecialTokens.bos,
        eos=tokenizer.eos_token or SpecialTokens.eos,
        tokenizer_path=getattr(tokenizer, "name_or_path", None),
    )


def chat_template(format_name: str, tokenizer: "PreTrainedTokenizerBase") -> str:
    """The Jinja chat template of the registered prompt format ``format_name``, written with
    ``tokenizer``'s BOS/EOS."""
    from .. import registry

    try:
        cls = registry.current().get("format", format_name).cls
    except registry.PluginError as exc:
        raise TrainingSetupError(f"--chat-format: {exc}") from None
    try:
        return cls(special=special_tokens(tokenizer)).chat_template()
    except (NotImplementedError, ValueError) as exc:
        raise TrainingSetupError(f"--chat-format {format_name}: {exc}") from None


def load_tokenizer(model: str, chat_format: Optional[str]) -> "PreTrainedTokenizerBase":
    """The model's tokenizer, carrying ``chat_format``'s chat template; with ``chat_format``
    ``None`` it keeps its own template, or gets the default format's when it has none."""
    from transformers import AutoTokenizer

    tokenizer = AutoTokenizer.from_pretrained(model)
    if chat_format is None and tokenizer.chat_template:
        return tokenizer
    tokenizer.chat_template = chat_template(chat_format or DEFAULT_CHAT_FORMAT, tokenizer)
    return tokenizer


def model_source(model: str) -> Union[str, Any]:
    """What trl loads: the model id or folder, or, for a folder holding a LoRA adapter (an SFT
    run with ``--lora``), its base model with the adapter merged in."""
    if not (Path(model) / "adapter_config.json").is_file():
        return model
    from peft import AutoPeftModelForCausalLM

    return AutoPeftModelForCausalLM.from_pretrained(model).merge_and_unload()


def model_init_kwargs(opts: TrainOptions) -> dict[str, Any]:
    kwargs: dict[str, Any] = {"dtype": opts.dtype}
    if opts.attn_implementation:
        kwargs["attn_implementation"] = opts.attn_implementation
    return kwargs


def quantization_config(opts: TrainOptions) -> Any:
    """The 4-bit (QLoRA) ``BitsAndBytesConfig``, or ``None``."""
    if not opts.load_in_4bit:
        return None
    if not opts.lora:
        raise TrainingSetupError("--load-in-4bit trains a LoRA adapter on a frozen 4-bit model: add --lora")
    import importlib.util

    import torch

    if importlib.util.find_spec("bitsandbytes") is None:
        raise TrainingSetupError("--load-in-4bit needs bitsandbytes: pip install bitsandbytes")
    if not torch.cuda.is_available():
        raise TrainingSetupError("--load-in-4bit needs a CUDA GPU (bitsandbytes 4-bit); none is available")
    from transformers import BitsAndBytesConfig

    return BitsAndBytesConfig(
        load_in_4bit=True,
        bnb_4bit_quant_type="nf4",
        bnb_4bit_use_double_quant=True,
        bnb_4bit_compute_dtype=torch.bfloat16 if opts.bf16 else torch.float16,
    )


def lora_config(opts: TrainOptions) -> Any:
    """The peft ``LoraConfig``, or ``None`` for a full fine-tune."""
    if not opts.lora:
        return None
    from peft import LoraConfig

    modules = [m.strip() for item in opts.lora_target_modules for m in item.split(",") if m.strip()]
    return LoraConfig(
        r=opts.lora_r,
        lora_alpha=opts.lora_alpha,
        lora_dropout=opts.lora_dropout,
        # peft takes "all-linear" as a string, not inside a list.
        target_modules="all-linear" if modules in ([], ["all-linear"]) else modules,
        task_type="CAUSAL_LM",
    )


def config_kwargs(opts: TrainOptions, has_eval: bool) -> dict[str, Any]:
    """Keyword arguments shared by ``SFTConfig`` and ``DPOConfig``."""
    if not 0.0 <= opts.warmup_ratio < 1.0:
        raise TrainingSetupError(f"--warmup-ratio must be in [0, 1), got {opts.warmup_ratio}")
    try:
        deepspeed = deepspeed_configs.resolve(opts.deepspeed)
    except ValueError as exc:
        raise TrainingSetupError(str(exc)) from None
    report_to = [r.strip() for r in opts.report_to.split(",") if r.strip()] or ["none"]
    return dict(
        output_dir=opts.output_dir,
        num_train_epochs=opts.num_train_epochs,
        max_steps=opts.max_steps,
        learning_rate=opts.learning_rate,
        lr_scheduler_type=opts.lr_scheduler_type,
        # transformers >= 5 takes the warmup ratio as a float below 1 in warmup_steps.
        warmup_steps=opts.warmup_ratio,
        weight_decay=opts.weight_decay,
        max_grad_norm=opts.max_grad_norm,
        optim=opts.optim,
        per_device_train_batch_size=opts.per_device_train_batch_size,
        per_device_eval_batch_size=opts.per_device_eval_batch_size,
        gradient_accumulation_steps=opts.gradient_accumulation_steps,
        max_length=opts.max_length,
        bf16=opts.bf16,
        gradient_checkpointing=opts.gradient_checkpointing,
        seed=opts.seed,
        data_seed=opts.seed,
        logging_steps=opts.logging_steps,
        save_strategy="steps",
        save_steps=opts.save_steps,
        save_total_limit=opts.save_total_limit,
        eval_strategy=("steps" if opts.eval_steps else "epoch") if has_eval else "no",
        eval_steps=opts.eval_steps,
        report_to=report_to,
        dataloader_num_workers=opts.dataloader_num_workers,
        deepspeed=deepspeed,
        dataset_num_proc=opts.dataset_num_proc,
        model_init_kwargs=model_init_kwargs(opts),
    )


def resume_arg(opts: TrainOptions) -> Union[str, bool, None]:
    """``trainer.train(resume_from_checkpoint=...)``: ``True`` finds the latest checkpoint."""
    value = opts.resume_from_checkpoint
    if value is None:
        return None
    return True if value.lower() in {"last", "latest", "true"} else value


def train_and_save(trainer: Any, opts: TrainOptions) -> None:
    """Train, then save the model (or adapter), its tokenizer and the training state."""
    trainer.train(resume_from_checkpoint=resume_arg(opts))
    trainer.save_model(opts.output_dir)
    trainer.save_state()
