"""``bagel export``, ``bagel report`` and ``bagel push-to-hub``: use an output folder elsewhere.

Registered on the root group by :mod:`bagel_core.cli`, like ``chat-template`` and ``preview``.
Heavy libraries (matplotlib, transformers, huggingface_hub) are imported inside the commands.
"""

from __future__ import annotations

from pathlib import Path

import click

_OUT = click.argument("out", type=click.Path(exists=True, file_okay=False, path_type=Path))


@click.command("export")
@click.argument("tool", type=click.Choice(["axolotl", "llama-factory"]))
@_OUT
@click.option(
    "--into",
    type=click.Path(file_okay=False, path_type=Path),
    help="Folder to write into [OUT/TOOL]; for llama-factory, a folder whose dataset_info.json keeps its other entries.",
)
def export_command(tool: str, out: Path, into: Path | None) -> None:
    """Write the config TOOL needs to train on OUT as it is (axolotl dataset YAML, LLaMA-Factory dataset_info.json)."""
    from .export import ExportError, export

    try:
        paths = export(tool, out, into)
    except ExportError as exc:
        raise click.ClickException(str(exc)) from None
    for path in paths:
        click.echo(str(path))


@click.command("push-to-hub")
@_OUT
@click.argument("repo")
@click.option("--private", is_flag=True, help="Create the repository private (if it does not exist).")
@click.option("--revision", help="Branch to commit to [main].")
@click.option("--message", "-m", help="Commit message.")
@click.option("--token", envvar="HF_TOKEN", help="Hugging Face token [HF_TOKEN, or the saved login].")
def push_command(
    out: Path, repo: str, private: bool, revision: str | None, message: str | None, token: str | None
) -> None:
    """Upload OUT to the Hugging Face dataset repository REPO (owner/name) in one commit."""
    from .push import PushError, files_to_push, push

    try:
        info = push(out, repo, private=private, revision=revision, commit_message=message, token=token)
    except PushError as exc:
        raise click.ClickException(str(exc)) from None
    click.echo(f"pushed {', '.join(files_to_push(out))} to {getattr(info, 'commit_url', None) or repo}")


@click.command("report")
@_OUT
@click.option("--tokenizer", help="Lengths in tokens of this tokenizer (path or id), and token counts per source.")
@click.option(
    "--max-length",
    type=click.IntRange(min=1),
    default=4096,
    show_default=True,
    help="Training sequence length the token lengths are held against.",
)
@click.option("--num-proc", type=click.IntRange(min=1), help="Worker processes counting tokens [all cores].")
@click.option(
    "--output",
    "-o",
    type=click.Path(dir_okay=False, path_type=Path),
    help="Where to write the report [OUT/report.html].",
)
def report_command(
    out: Path, tokenizer: str | None, max_length: int, num_proc: int | None, output: Path | None
) -> None:
    """Write a self-contained report.html: mixture, lengths, what was removed and why, contamination, examples."""
    try:
        import matplotlib  # noqa: F401
    except ImportError:
        raise click.ClickException(
            "bagel report draws its charts with matplotlib: pip install 'bagel-core[report]'"
        ) from None
    from .report import write_report

    if not (out / "manifest.json").exists():
        raise click.ClickException(
            f"{out} is not a finished bagel output (no manifest.json); run `bagel run --out {out}` first"
        )
    from .console import quiet_libraries
    from .processes import cores

    quiet_libraries()
    click.echo(str(write_report(out, tokenizer, output, max_length, num_proc or cores())))
