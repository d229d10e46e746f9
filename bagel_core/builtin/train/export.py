"""What happens to a trained model after training: merging a LoRA adapter into its base
(``bagel train merge``, and the start of a run from an adapter folder) and uploading a model
folder to the Hugging Face Hub (``--push-to-hub``)."""

from __future__ import annotations

import json
from pathlib import Path

import click

#: Files and folders of an output folder that are training leftovers, not the model.
PUSH_IGNORE = ["checkpoint-*", "checkpoint-*/**", "base-model/**", "runs/**", "*.pt", "*.pth"]


class ExportError(click.ClickException):
    """A model folder that cannot be merged or pushed as asked (one-line CLI error)."""


def merge_adapter(adapter: str, out: str, *, dtype: str = "auto") -> Path:
    """Merge the LoRA adapter in folder ``adapter`` into its base and save the full model, with
    the adapter folder's tokenizer (its chat template) when it has one, into ``out``."""
    from peft import AutoPeftModelForCausalLM
    from transformers import AutoTokenizer

    if not (Path(adapter) / "adapter_config.json").is_file():
        raise ExportError(f"{adapter}: no adapter_config.json (not a LoRA adapter folder)")
    model = AutoPeftModelForCausalLM.from_pretrained(adapter, dtype=dtype).merge_and_unload()
    target = Path(out)
    model.save_pretrained(target)
    try:
        tokenizer = AutoTokenizer.from_pretrained(adapter)
    except (OSError, ValueError):  # an adapter saved without its tokenizer: take the base's
        tokenizer = AutoTokenizer.from_pretrained(
            json.loads((Path(adapter) / "adapter_config.json").read_text())["base_model_name_or_path"]
        )
    tokenizer.save_pretrained(target)
    return target


def adapter_base(folder: str) -> str | None:
    """The base model an adapter folder names, or ``None`` for a full model folder."""
    config = Path(folder) / "adapter_config.json"
    return json.loads(config.read_text()).get("base_model_name_or_path") if config.is_file() else None


def push_model(folder: str, repo_id: str, *, private: bool = True, token: str | None = None) -> str:
    """Upload the model in ``folder`` (its weights or adapter, config, tokenizer, training
    state; not its checkpoints or merged base) to the model repo ``repo_id``, creating it if
    needed. An adapter whose base is a local folder would not load from the Hub: merge it first."""
    from huggingface_hub import HfApi

    base = adapter_base(folder)
    if base is not None and Path(base).exists():
        raise ExportError(
            f"--push-to-hub {repo_id}: {folder} is an adapter on the local model {base}, which would not load from the "
            f"Hub; push the merged model instead: bagel train merge --adapter {folder} --output-dir MERGED --push-to-hub {repo_id}"
        )
    api = HfApi(token=token)
    url = api.create_repo(repo_id, repo_type="model", private=private, exist_ok=True)
    api.upload_folder(
        repo_id=repo_id,
        repo_type="model",
        folder_path=folder,
        ignore_patterns=PUSH_IGNORE,
        commit_message="Upload model trained with bagel",
    )
    return str(url)


@click.command("merge")
@click.option(
    "--adapter",
    required=True,
    type=click.Path(exists=True, file_okay=False),
    help="A LoRA adapter folder (an output of --lora).",
)
@click.option(
    "--output-dir",
    required=True,
    type=click.Path(file_okay=False),
    help="Where the merged full model and tokenizer go.",
)
@click.option(
    "--dtype",
    type=click.Choice(["auto", "bfloat16", "float16", "float32"]),
    default="auto",
    show_default=True,
    help="dtype the weights are merged and saved in.",
)
@click.option("--push-to-hub", help="Then upload the merged model to this Hub repo (owner/name).")
@click.option("--hub-private/--no-hub-private", default=True, show_default=True, help="Create the repo private.")
@click.option("-v", "--verbose", count=True, help="Show the libraries' info logs and progress bars.")
def merge_command(
    adapter: str, output_dir: str, dtype: str, push_to_hub: str | None, hub_private: bool, verbose: int
) -> None:
    """Merge a LoRA adapter into its base model: a full model folder that loads without peft."""
    from bagel_core.builtin.train.logs import quiet_logs

    quiet_logs(verbose, quiet=True)  # as quiet as training: no loading bars, warnings, DeepSpeed's accelerator line
    merge_adapter(adapter, output_dir, dtype=dtype)
    click.echo(f"saved the merged model and tokenizer to {output_dir}")
    if push_to_hub:
        click.echo(f"pushed {push_model(output_dir, push_to_hub, private=hub_private)}")
