"""``bagel export``, ``bagel report`` and ``bagel push-to-hub``: use an output folder elsewhere.

Registered on the root group by :mod:`bagel_core.cli`, like ``chat-template`` and ``preview``.
Heavy libraries (matplotlib, transformers, huggingface_hub) are imported inside the commands.
"""

from __future__ import annotations

from pathlib import Path
from typing import Optional

import click

_OUT = click.argument("out", type=click.Path(exists=True, file_okay=False, path_type=Path))


@click.command("export")
@click.argument("tool", type=click.Choice(["axolotl", "llama-factory"]))
@_OUT
@click.option("--into", type=click.Path(file_okay=False, path_type=Path), help="Folder to write into [OUT/TOOL]; for llama-factory, a folder whose dataset_info.json keeps its other entries.")
def export_command(tool: str, out: Path, into: Optional[Path]) -> None:
    """Write the config TOOL needs to train on OUT as it is (axolotl dataset YAML, LLaMA-Factory dataset_info.json)."""
    from .export import ExportError, export

    try:
        paths = export(tool, out, into)
    except ExportError as exc:
        raise click.ClickException(str(exc)) from None
    for path in paths:
        click.echo(str(path))
