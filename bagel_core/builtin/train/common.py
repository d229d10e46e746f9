"""What every bagel trainer shares: the common options, reading bagel's output, the tokenizer
with the chat template the rows were rendered in, the model to start from (adapter chains),
LoRA/QLoRA and DeepSpeed setup, the trl arguments (with ``--arg`` pass-through), the checks
made before any work, and :class:`TrlTrainer`, the steps around a trl trainer.

torch, transformers, trl and peft are imported inside the functions, so that importing the
trainer classes (``bagel --help``, ``bagel list-plugins``) stays light.
"""

from __future__ import annotations

import json
import sys
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any, ClassVar, Literal, cast

from bagel_core.builtin.train import data as train_data
from bagel_core.builtin.train import deepspeed_configs
from bagel_core.builtin.train.data import OverLength
from bagel_core.builtin.train.logs import PROGRESS, quiet_logs
from bagel_core.components import PromptFormat, Trainer
from bagel_core.config import ConfigError
from bagel_core.manifest import Manifest, ManifestError, NewerManifest, read_manifest
from bagel_core.records import legacy_renames

if TYPE_CHECKING:
    import datasets
    from transformers import PreTrainedTokenizerBase

    from bagel_core.components import SpecialTokens

DEFAULT_CHAT_FORMAT = "llama-2"


class TrainingSetupError(ConfigError):
    """A problem with the trainer's options or inputs; ``bagel train`` shows it as a one-line error."""


@dataclass
class TrainOptions:
    """Options of every bagel trainer; each field is a ``bagel train NAME --flag``."""

    model: str = field(metadata={"help": "Model to train: a local folder or a Hugging Face Hub id."})
    data: str = "bagel-out/sft.parquet"
    output_dir: str = "bagel-sft"
    chat_format: str | None = field(
        default=DEFAULT_CHAT_FORMAT,
        metadata={"help": "Prompt format whose chat template the saved tokenizer carries (a registered format)."},
    )
    eval_fraction: float = field(default=0.0, metadata={"help": "Fraction of the rows held out for evaluation."})
    eval_steps: int | None = field(default=None, metadata={"help": "Evaluate every N steps [each epoch]."})
    num_train_epochs: float = 1.0
    max_steps: int = field(default=-1, metadata={"help": "Stop after N optimizer steps (overrides epochs)."})
    learning_rate: float = 2e-5
    lr_scheduler_type: str = field(
        default="linear", metadata={"help": "linear, cosine, constant, constant_with_warmup, ..."}
    )
    warmup_ratio: float = field(default=0.005, metadata={"help": "Fraction of the steps warming up the learning rate."})
    weight_decay: float = 0.0
    max_grad_norm: float = 1.0
    optim: str = "adamw_torch"
    per_device_train_batch_size: int = 8
    per_device_eval_batch_size: int = 8
    gradient_accumulation_steps: int = 1
    max_length: int = field(default=4096, metadata={"help": "Longest tokenized sequence (prompt + answer)."})
    over_length: OverLength = field(
        default="truncate",
        metadata={
            "help": "Rows longer than --max-length: truncate (keep the start; a prompt's end) or drop; counted either way."
        },
    )
    bf16: bool = field(default=False, metadata={"help": "bf16 mixed precision (GPUs)."})
    dtype: Literal["auto", "bfloat16", "float16", "float32"] = field(
        default="auto", metadata={"help": "dtype the model weights load in."}
    )
    gradient_checkpointing: bool = True
    attn_implementation: str | None = field(
        default=None, metadata={"help": "eager, sdpa or flash_attention_2 [the model's default]."}
    )
    seed: int = 42
    logging_steps: int = 1
    save_steps: int = 200
    save_total_limit: int | None = 5
    report_to: str = field(default="none", metadata={"help": "Comma-separated: wandb, tensorboard, ... or none."})
    dataloader_num_workers: int = 0
    resume_from_checkpoint: str | None = field(
        default=None, metadata={"help": "A checkpoint folder, or 'last' for the latest in --output-dir."}
    )
    deepspeed: str | None = field(
        default=None, metadata={"help": "zero2 or zero3 (built-in ZeRO configs), or a DeepSpeed JSON file."}
    )
    lora: bool = field(default=False, metadata={"help": "Train a LoRA adapter instead of all weights."})
    lora_r: int = 64
    lora_alpha: int = 16
    lora_dropout: float = 0.05
    lora_target_modules: tuple[str, ...] = field(
        default=("all-linear",), metadata={"help": "Modules LoRA adapts (repeat or comma-separate) [all-linear]."}
    )
    load_in_4bit: bool = field(
        default=False, metadata={"help": "QLoRA: load the base model in 4-bit (bitsandbytes, GPU)."}
    )
    dataset_num_proc: int | None = field(default=None, metadata={"help": "Processes tokenizing the data [one]."})
    push_to_hub: str | None = field(
        default=None,
        metadata={"help": "Upload the trained model (or adapter) to this Hub repo (owner/name) at the end."},
    )
    hub_private: bool = field(default=True, metadata={"help": "Create the --push-to-hub repo private."})
    arg: tuple[str, ...] = field(
        default=(),
        metadata={
            "help": "Any other field of the trl config (TrainingArguments, SFTConfig, DPOConfig...) as KEY=VALUE (repeatable)."
        },
    )


def read_rows(path: str, default_file: str) -> datasets.Dataset:
    """The rows of a parquet/JSON(L)/CSV file, of ``default_file`` in a folder (bagel's output
    folder), or of a dataset on the Hub (``owner/name``, split ``train``)."""
    import datasets

    p = Path(path)
    if p.is_dir() and (p / default_file).is_file():
        p = p / default_file
    if p.is_file():
        suffix = p.suffix.lower().lstrip(".")
        builder = {"jsonl": "json", "json": "json", "csv": "csv"}.get(suffix, "parquet")
        rows = datasets.load_dataset(builder, data_files=str(p), split="train")
        renames = legacy_renames(rows.column_names)
        if renames:  # an earlier bagel's sft.parquet (deprecated names): read as today's
            rows = rows.rename_columns(renames)
        return rows
    try:
        return datasets.load_dataset(path, split="train")
    except Exception as exc:  # the Hub raises many types; say what to provide instead
        raise TrainingSetupError(
            f"cannot read training data {path!r} ({type(exc).__name__}: {exc}); pass --data with a "
            f"{default_file} file, bagel's output folder, or a Hub dataset id"
        ) from None


def select_rows(
    rows: datasets.Dataset,
    columns: dict[str, str],
    keep: Callable[[dict[str, Any]], bool],
    what: str,
    *,
    keep_columns: Iterable[str] = (),
) -> datasets.Dataset:
    """The rows with the ``columns`` (source name -> trl name) renamed, plus ``keep_columns``
    as they are (the item ``id``...); rows ``keep`` rejects are skipped with a count, never fatal."""
    missing = [c for c in columns if c not in rows.column_names]
    if missing:
        raise TrainingSetupError(
            f"{what} data lacks column(s) {', '.join(missing)}; has {', '.join(rows.column_names)}"
        )
    extra = [c for c in keep_columns if c not in columns]
    rows = rows.select_columns([*columns, *extra]).rename_columns({k: v for k, v in columns.items() if k != v})
    kept = rows.filter(keep)
    skipped = len(rows) - len(kept)
    if skipped:
        print(f"warning: skipped {skipped} malformed {what} row(s) (missing or empty text)", file=sys.stderr)
    if len(kept) == 0:
        raise TrainingSetupError(f"no usable {what} rows")
    return kept


def special_tokens(tokenizer: PreTrainedTokenizerBase) -> SpecialTokens:
    """The BOS/EOS a prompt format writes for ``tokenizer``."""
    from bagel_core.components import SpecialTokens

    return SpecialTokens(
        bos=tokenizer.bos_token or SpecialTokens.bos,
        eos=tokenizer.eos_token or SpecialTokens.eos,
        tokenizer_path=getattr(tokenizer, "name_or_path", None),
    )


def adds_bos(tokenizer: PreTrainedTokenizerBase) -> bool:
    """Whether the tokenizer puts BOS in front of a text by itself."""
    return tokenizer.bos_token_id is not None and tokenizer.bos_token_id in tokenizer("")["input_ids"]


def output_manifest(data: str) -> Manifest | None:
    """The manifest of the bagel output folder ``data`` is (or is a file of); ``None`` for other
    data (no manifest, or not bagel's). A manifest newer than this bagel reads is an error."""
    path = Path(data)
    try:
        return read_manifest(path if path.is_dir() else path.parent)
    except NewerManifest:
        raise
    except (OSError, ManifestError):
        return None


def format_options(data: str, format_name: str) -> dict[str, Any] | None:
    """The options ``format_name`` rendered ``data`` with, from bagel's output manifest
    (``None`` for other data): the saved chat template must be the variant the rows were
    rendered in (chatml's ``im_markers``, alpaca's ``layout``...), not the default."""
    manifest = output_manifest(data)
    formats = manifest.components.formats if manifest else []
    return next((f.get("options") for f in formats if isinstance(f, dict) and f.get("name") == format_name), None)


def check_special_tokens(data: str, tokenizer: PreTrainedTokenizerBase) -> str | None:
    """A warning when bagel's output ``data`` was rendered with other BOS/EOS texts than the
    tokenizer's (the formats write them between turns): those rows would hold plain text where
    the saved template writes the model's special tokens."""
    manifest = output_manifest(data)
    rendered = manifest.special_tokens if manifest else {}
    ours = special_tokens(tokenizer)
    if (rendered.get("bos"), rendered.get("eos")) in {(None, None), (ours.bos, ours.eos)}:
        return None
    return (
        f"warning: {data} was rendered with BOS/EOS {rendered.get('bos')!r}/{rendered.get('eos')!r}, this tokenizer's are "
        f"{ours.bos!r}/{ours.eos!r}: render it with bagel run --tokenizer {tokenizer.name_or_path}"
    )


def chat_template(format_name: str, tokenizer: PreTrainedTokenizerBase, options: dict[str, Any] | None = None) -> str:
    """The Jinja chat template of the registered prompt format ``format_name`` (with
    ``options``, as the rows were rendered), written with ``tokenizer``'s BOS/EOS, and starting
    with BOS when the tokenizer adds one to a text.

    The formats render without the first BOS (the tokenizer adds it when a row is tokenized);
    ``apply_chat_template(..., tokenize=True)`` adds no special tokens, so the saved template
    writes the BOS itself: then it gives exactly the ids the model was trained on."""
    from bagel_core import registry
    from bagel_core.config import make_options

    try:
        # Registration checked that a format subclasses PromptFormat.
        cls = cast("type[PromptFormat]", registry.current().get("format", format_name).cls)
    except registry.PluginError as exc:
        raise TrainingSetupError(f"--chat-format: {exc}") from None
    try:
        fmt = cls(make_options(cls, options) if options else None, special=special_tokens(tokenizer))
        template = fmt.chat_template()
        # A format that writes the first BOS itself (chatml v0.5) needs no second one.
        writes_bos = bool(tokenizer.bos_token) and fmt.render([{"role": "user", "content": "x"}]).startswith(
            tokenizer.bos_token
        )
    except (NotImplementedError, ValueError) as exc:
        raise TrainingSetupError(f"--chat-format {format_name}: {exc}") from None
    return "{{- bos_token -}}" + template if adds_bos(tokenizer) and not writes_bos else template


def check_model(model: str) -> None:
    """A ``--model`` that can only be a folder (a path, not ``name`` or ``owner/name``) must
    exist; the Hub would otherwise answer "Repo id must be in the form ..."."""
    path = Path(model).expanduser()
    looks_like_path = model.startswith((".", "/", "~")) or model.count("/") > 1 or "\\" in model
    if looks_like_path and not path.exists():
        raise TrainingSetupError(f"--model {model}: no such model folder")
    if path.exists() and not path.is_dir():
        raise TrainingSetupError(f"--model {model}: not a folder (a model folder or a Hub id)")


def load_tokenizer(model: str, chat_format: str | None, data: str | None = None) -> PreTrainedTokenizerBase:
    """The model's tokenizer, carrying ``chat_format``'s chat template (in the variant bagel's
    output ``data`` was rendered in); with ``chat_format`` ``None`` it keeps its own template,
    or gets the default format's when it has none."""
    from transformers import AutoTokenizer

    check_model(model)
    try:
        tokenizer = AutoTokenizer.from_pretrained(model)
    except (OSError, ValueError) as exc:
        raise TrainingSetupError(f"--model {model}: cannot load its tokenizer ({str(exc).splitlines()[0]})") from None
    if chat_format is None and tokenizer.chat_template:
        return tokenizer
    name = chat_format or DEFAULT_CHAT_FORMAT
    tokenizer.chat_template = chat_template(name, tokenizer, format_options(data, name) if data else None)
    return tokenizer


#: The folder in ``--output-dir`` holding the merged model a run started from an adapter
#: folder trains on; a LoRA adapter trained on it names it as its base.
MERGED_BASE = "base-model"


def is_adapter(model: str) -> bool:
    return (Path(model) / "adapter_config.json").is_file()


def model_source(opts: TrainOptions) -> str:
    """What trl loads: the model id or folder, or, for a LoRA adapter folder (an SFT run with
    ``--lora``), its base with the adapter merged in, saved once to ``--output-dir``/base-model.

    Saving the merged model makes the chain reload exactly: a new ``--lora`` adapter names
    that folder as its base (not the bare base the SFT adapter names, which would drop the SFT
    step), trl builds the DPO reference from it, and QLoRA can load it in 4-bit."""
    if not is_adapter(opts.model):
        return opts.model
    from accelerate import PartialState

    target = Path(opts.output_dir).resolve() / MERGED_BASE
    state = PartialState()
    if state.is_main_process:
        from bagel_core.builtin.train import export as train_export

        train_export.merge_adapter(opts.model, str(target), dtype=opts.dtype)
    state.wait_for_everyone()
    return str(target)


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
    """Keyword arguments every trl config (a ``TrainingArguments``) takes from bagel's options."""
    if not 0.0 <= opts.warmup_ratio < 1.0:
        raise TrainingSetupError(f"--warmup-ratio must be in [0, 1), got {opts.warmup_ratio}")
    try:
        deepspeed = deepspeed_configs.resolve(opts.deepspeed)
    except ValueError as exc:
        raise TrainingSetupError(str(exc)) from None
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
        # transformers 5 renamed gradient_checkpointing (a deprecated alias now).
        activation_checkpointing=opts.gradient_checkpointing,
        seed=opts.seed,
        data_seed=opts.seed,
        logging_steps=opts.logging_steps,
        save_strategy="steps",
        save_steps=opts.save_steps,
        save_total_limit=opts.save_total_limit,
        eval_strategy=("steps" if opts.eval_steps else "epoch") if has_eval else "no",
        eval_steps=opts.eval_steps,
        report_to=report_targets(opts),
        dataloader_num_workers=opts.dataloader_num_workers,
        dataloader_pin_memory=cuda_available(),  # pinning needs an accelerator (torch warns on CPU)
        # transformers hides its bar whenever its logger is quieter than warnings, as bagel's is.
        disable_tqdm=not PROGRESS["bar"],
        # Without one, transformers only goes distributed (gloo) when told to use the CPU: else each
        # rank of a multi-process launch trains alone, a whole training per rank into one folder.
        **({} if accelerator_available() else {"use_cpu": True}),
        deepspeed=deepspeed,
        dataset_num_proc=opts.dataset_num_proc,
        model_init_kwargs=model_init_kwargs(opts),
    )


def cuda_available() -> bool:
    import torch

    return torch.cuda.is_available()


def accelerator_available() -> bool:
    import torch

    return torch.accelerator.is_available()


def check_world_size(args: Any) -> None:
    """The trainer must run on every process the launcher started (``WORLD_SIZE``): a rank that
    trains alone would write a whole training of its own into the same folder."""
    import os

    launched = int(os.environ.get("WORLD_SIZE", "1"))
    if args.world_size != launched:
        raise TrainingSetupError(
            f"the launcher started {launched} processes but the trainer sees a world of {args.world_size} "
            f"(device {args.device}): each process would train alone; check the launcher's backend and devices"
        )


def report_targets(opts: TrainOptions) -> list[str]:
    return [r.strip() for r in opts.report_to.split(",") if r.strip()] or ["none"]


def extra_args(opts: TrainOptions, config_cls: type, own: Iterable[str]) -> dict[str, Any]:
    """``--arg KEY=VALUE`` as config fields: VALUE is read as JSON (numbers, true/false, lists)
    or else kept as text; KEY must be a field of ``config_cls`` that no bagel option sets."""
    import dataclasses

    fields = {f.name for f in dataclasses.fields(config_cls)}
    own = set(own)
    values: dict[str, Any] = {}
    for item in opts.arg:
        key, sep, text = item.partition("=")
        key = key.strip().replace("-", "_")
        if not sep or not key:
            raise TrainingSetupError(f"--arg {item!r}: expected KEY=VALUE")
        if key not in fields:
            raise TrainingSetupError(f"--arg {key}: not a field of trl's {config_cls.__name__}")
        if key in own:
            raise TrainingSetupError(
                f"--arg {key}: bagel sets it from its own option; use --{key.replace('_', '-')} instead"
            )
        try:
            values[key] = json.loads(text)
        except json.JSONDecodeError:
            values[key] = text
    return values


#: ``--report-to`` targets and the package each needs.
REPORT_PACKAGES = {
    "wandb": "wandb",
    "tensorboard": "tensorboard",
    "mlflow": "mlflow",
    "comet_ml": "comet_ml",
    "clearml": "clearml",
    "dvclive": "dvclive",
    "neptune": "neptune",
    "trackio": "trackio",
}


def check_environment(opts: TrainOptions) -> None:
    """Fail early, in one line, on what would otherwise end in a traceback minutes later: a
    missing optional package, or DeepSpeed without a distributed launcher."""
    import importlib.util
    import os

    check_model(opts.model)

    def need(module: str, what: str, install: str) -> None:
        if importlib.util.find_spec(module) is None:
            raise TrainingSetupError(f"{what} needs the {module} package: pip install {install}")

    for target in report_targets(opts):
        if target in REPORT_PACKAGES:
            need(REPORT_PACKAGES[target], f"--report-to {target}", REPORT_PACKAGES[target])
    if opts.attn_implementation == "flash_attention_2":
        need("flash_attn", "--attn-implementation flash_attention_2", "flash-attn --no-build-isolation")
    if opts.push_to_hub:
        need("huggingface_hub", "--push-to-hub", "huggingface_hub")
        if opts.lora and Path(opts.model).exists():  # known now, not after hours of training
            raise TrainingSetupError(
                f"--push-to-hub with --lora on the local model {opts.model}: the adapter would not load from the Hub; "
                f"train without --push-to-hub, then: bagel train merge --adapter {opts.output_dir} --output-dir MERGED "
                f"--push-to-hub {opts.push_to_hub}"
            )
    if opts.deepspeed:
        need("deepspeed", "--deepspeed", "deepspeed")
        if "LOCAL_RANK" not in os.environ:
            raise TrainingSetupError(
                "--deepspeed runs under a distributed launcher: accelerate launch -m bagel_core train ... "
                "(or torchrun / deepspeed); see docs/training.md"
            )


def resume_arg(opts: TrainOptions) -> str | bool | None:
    """``trainer.train(resume_from_checkpoint=...)``: ``True`` finds the latest checkpoint."""
    value = opts.resume_from_checkpoint
    if value is None:
        return None
    return True if value.lower() in {"last", "latest", "true"} else value


#: Whether the trainer shows its progress bar (with ETA): on unless ``-q``.
class TrlTrainer(Trainer):
    """A trainer running one of trl's trainers on bagel's output: the shared steps (read, skip
    malformed rows, split by item, tokenize, fit the length limit, record, train, save, push)
    with the method's own parts as hooks. Subclass it to add a trl trainer through the
    ``register_trainers`` hook (see docs/training.md)."""

    #: The file read from bagel's output folder.
    data_file: ClassVar[str] = "sft.parquet"
    #: Data columns -> the names the method's rows use.
    columns: ClassVar[dict[str, str]] = {"prompt": "prompt", "completion": "completion"}
    #: trl columns that must hold non-empty text (the others text, maybe empty).
    required: ClassVar[tuple[str, ...]] = ("completion",)

    @dataclass
    class Options(TrainOptions):
        """What every trl method takes: :class:`TrainOptions`."""

    options: TrainOptions

    @classmethod
    def setup_logs(cls, verbose: int, quiet: bool) -> None:
        quiet_logs(verbose, quiet)

    # --- hooks ---------------------------------------------------------------------------

    def trl_classes(self) -> tuple[type, type]:
        """``(config class, trainer class)`` of trl."""
        raise NotImplementedError

    def usable(self, row: dict[str, Any]) -> bool:
        """Whether a row (trl column names) has the text to train on; others are counted and skipped."""
        return all(isinstance(row[c], str) for c in self.columns.values()) and all(
            row[c].strip() for c in self.required
        )

    def tokenize(self, rows: datasets.Dataset, tokenizer: Any) -> tuple[datasets.Dataset, train_data.LengthReport]:
        """The rows as the trl trainer takes them, within ``--max-length``, with the count of long rows."""
        raise NotImplementedError

    def method_config(self) -> dict[str, Any]:
        """Config fields of the method (``beta``, ``completion_only_loss``...)."""
        return {}

    def trainer_kwargs(self) -> dict[str, Any]:
        """Extra keyword arguments of the trl trainer."""
        return {}

    def held_out_items(self) -> set[str]:
        """Item ids left out of this run entirely (neither trained nor evaluated)."""
        return set()

    # --- the shared steps ----------------------------------------------------------------

    def rows(self) -> datasets.Dataset:
        """The usable rows of ``--data``, with trl's column names (and ``id``, ``source``,
        ``format`` when the data has them)."""
        rows = read_rows(self.options.data, self.data_file)
        keep = [c for c in ("id", "source", "format") if c in rows.column_names]
        return select_rows(rows, self.columns, self.usable, self.name, keep_columns=keep)

    def eval_item_ids(self) -> list[str]:
        """The items ``--eval-fraction`` holds out of this run's data (what :meth:`build` uses)."""
        return sorted(
            train_data.eval_items(train_data.item_ids(self.rows()), self.options.eval_fraction, self.options.seed)
        )

    def build(self) -> Any:
        """The ready trl trainer (what :meth:`train` runs)."""
        opts = self.options
        check_environment(opts)
        config_cls, trainer_cls = self.trl_classes()
        rows = self.rows()
        held_out = self.held_out_items()
        if held_out and "id" in rows.column_names:
            rows = rows.filter(lambda item: str(item) not in held_out, input_columns="id")
        train_rows, eval_rows, eval_ids = train_data.split_by_item(rows, opts.eval_fraction, opts.seed)
        tokenizer = load_tokenizer(opts.model, opts.chat_format, opts.data)
        mismatch = check_special_tokens(opts.data, tokenizer)
        if mismatch:
            print(mismatch, file=sys.stderr)
        train_set, train_len = self.tokenize(train_rows, tokenizer)
        reports = {"train": train_len}
        eval_set = None
        if eval_rows is not None:
            eval_set, reports["eval"] = self.tokenize(eval_rows, tokenizer)
        record = train_data.DataRecord(
            data=opts.data,
            seed=opts.seed,
            eval_fraction=opts.eval_fraction,
            eval_ids=eval_ids,
            held_out_ids=sorted(held_out),
            train_items=train_data.count_items(train_rows),
            rows={"train": len(train_set), "eval": len(eval_set) if eval_set is not None else 0},
            length=train_data.report_lengths(self.name, reports),
        )
        if len(train_set) == 0:
            raise TrainingSetupError(
                f"no {self.name} row fits --max-length {opts.max_length} (--over-length {opts.over_length})"
            )
        own = config_kwargs(opts, has_eval=eval_set is not None)
        method = self.method_config()
        args = config_cls(**own, **method, **extra_args(opts, config_cls, [*own, *method]))
        check_world_size(args)
        trainer = trainer_cls(
            model=model_source(opts),
            args=args,
            train_dataset=train_set,
            eval_dataset=eval_set,
            processing_class=tokenizer,
            peft_config=lora_config(opts),
            **self.trainer_kwargs(),
        )
        if trainer.accelerator.is_main_process:
            record.write(opts.output_dir)
        return trainer

    def train(self) -> None:
        train_and_save(self.build(), self.options)


def train_and_save(trainer: Any, opts: TrainOptions) -> None:
    """Train, then save the model (or adapter), its tokenizer and the training state; push
    them to the Hub with ``--push-to-hub``."""
    trainer.train(resume_from_checkpoint=resume_arg(opts))
    trainer.save_model(opts.output_dir)
    trainer.save_state()
    if not trainer.accelerator.is_main_process:
        return
    what = "LoRA adapter" if opts.lora else "model"
    print(
        f"saved the {what}, tokenizer and training state (trainer_state.json, bagel_data.json) to {opts.output_dir}",
        file=sys.stderr,
    )
    if opts.push_to_hub:
        from bagel_core.builtin.train import export as train_export

        train_export.push_model(opts.output_dir, opts.push_to_hub, private=opts.hub_private)
        print(f"pushed {opts.output_dir} to the Hub model repo {opts.push_to_hub}", file=sys.stderr)
