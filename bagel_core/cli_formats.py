"""``bagel chat-template`` and ``bagel preview``: look at what the prompt formats produce.

Added to the root group by :mod:`bagel_core.cli`. Heavy libraries (transformers,
datasets) are imported inside the commands, never when the CLI starts.
"""

from __future__ import annotations

import typing
from collections.abc import Iterator
from pathlib import Path
from typing import TYPE_CHECKING, cast

import click

from . import registry
from .components import Loader, PromptFormat
from .containment import PluginExit, contained, stdout_to_stderr, who
from .registry import PluginError, UnknownComponentError
from .rendering import NewlineRule

if TYPE_CHECKING:
    from .records import Record


def make_format(name: str, option: tuple[str, ...], tokenizer: str | None) -> PromptFormat:
    """The format ``name`` with ``--option`` settings and the special tokens of ``tokenizer``."""
    from .config import ConfigError, make_options
    from .options import parse_assignments
    from .pipeline import special_tokens

    try:
        # Registration checked that a format subclasses PromptFormat.
        cls = cast("type[PromptFormat]", registry.current().get("format", name).cls)
        options, tokens = make_options(cls, dict(parse_assignments(option))), special_tokens(tokenizer)
        with contained(who(cls)):
            return cls(options, tokens)
    except (PluginError, ConfigError, PluginExit, ValueError, OSError) as exc:
        raise click.ClickException(str(exc)) from None


_OPTION = click.option(
    "--option", "-o", multiple=True, metavar="KEY=VALUE", help="A format option, e.g. im_markers=true (repeatable)."
)
_TOKENIZER = click.option("--tokenizer", help="Tokenizer (path or id) whose BOS/EOS the format uses.")


@click.command("chat-template")
@click.argument("format_name", metavar="FORMAT")
@_TOKENIZER
@click.option(
    "--into",
    type=click.Path(exists=True, file_okay=False, path_type=Path),
    help="Write the template into this tokenizer folder's config instead of printing it.",
)
@_OPTION
def chat_template_command(format_name: str, tokenizer: str | None, into: Path | None, option: tuple[str, ...]) -> None:
    """Print FORMAT's Jinja chat template, or write it into a tokenizer (--into DIR)."""
    try:
        with stdout_to_stderr():  # stdout holds the template alone, whatever the plugin prints
            fmt = make_format(format_name, option, tokenizer or (str(into) if into else None))
            with contained(who(type(fmt))):
                template = fmt.chat_template()
    except (NotImplementedError, PluginExit) as exc:
        raise click.ClickException(str(exc)) from None
    if into is None:
        click.echo(template)
        return
    from transformers import AutoTokenizer

    try:
        tok = AutoTokenizer.from_pretrained(str(into))
    except (OSError, ValueError) as exc:
        raise click.ClickException(f"{into} holds no tokenizer: {exc}") from None
    tok.chat_template = template
    tok.save_pretrained(str(into))
    click.echo(f"wrote the {format_name} chat template into {into}", err=True)


def _records(source: str, sample: bool, data_root: Path | None, seed: int) -> Iterator[Record]:
    """Valid records of one source or DPO builder, loaded as ``bagel run`` loads them."""
    from .config import make_options
    from .context import LoadContext
    from .data import DataAccess
    from .stages.load import load_records

    reg = registry.current()
    cls: type[Loader] | None = None
    for kind in ("source", "dpo_builder"):
        if source in reg.of(kind):
            cls = cast("type[Loader]", reg.get(kind, source).cls)  # sources and DPO builders are loaders
            break
    if cls is None:
        available = sorted(set(reg.of("source")) | set(reg.of("dpo_builder")))
        raise UnknownComponentError("source", source, available)
    options = make_options(cls, {})
    data = DataAccess.for_component(cls, data_root, sample)
    ctx = LoadContext(cls.name, seed, data, options)
    with contained(who(cls)):
        yield from load_records(cls(options), ctx)


@click.command("preview")
@click.option("--format", "format_name", required=True, help="Prompt format to render in.")
@click.option("--source", required=True, help="Source or DPO builder to read.")
@click.option("-n", "count", type=int, default=3, show_default=True, help="Number of items.")
@click.option("--sample", is_flag=True, help="Use the samples the plugin ships (no network).")
@click.option(
    "--data-root",
    type=click.Path(file_okay=False, path_type=Path),
    help="Read dataset owner/name from ROOT/owner/name/.",
)
@click.option(
    "--seed", type=int, default=42, show_default=True, help="Seed of the random choices (default system prompt)."
)
@click.option(
    "--newlines",
    type=click.Choice(typing.get_args(NewlineRule)),
    default="newline-runs",
    show_default=True,
    help="Newline clean-up of answers, as bagel run's --newlines.",
)
@_TOKENIZER
@_OPTION
def preview_command(
    format_name: str,
    source: str,
    count: int,
    sample: bool,
    data_root: Path | None,
    seed: int,
    newlines: NewlineRule,
    tokenizer: str | None,
    option: tuple[str, ...],
) -> None:
    """Print the first N items of a source or DPO builder rendered in a format, as `bagel run` writes them."""
    from .config import ConfigError
    from .data import DatasetUnavailable
    from .rendering import Renderer

    renderer = Renderer([make_format(format_name, option, tokenizer)], seed, newlines)
    shown = 0
    try:
        for record in _records(source, sample, data_root, seed):
            if shown >= count:
                break
            shown += 1
            if record.get("conversations") is not None or record.get("text") is not None:
                for item_id, src, fmt, text_in, text_out in renderer.sft_rows(
                    record["id"], record["source"], record.get("conversations"), record.get("text"), [0]
                ):
                    _show(f"{src} {item_id} [{fmt}]", input=text_in, output=text_out)
            pair = record.get("prompt"), record.get("chosen"), record.get("rejected")
            if pair[0] is not None and pair[1] is not None and pair[2] is not None:  # valid: all three or none
                for item_id, src, fmt, prompt, chosen, rejected in renderer.dpo_rows(
                    record["id"],
                    record["source"],
                    pair[0],
                    pair[1],
                    pair[2],
                    record.get("system"),
                    [0],
                ):
                    _show(f"{src} {item_id} [{fmt}, dpo]", prompt=prompt, chosen=chosen, rejected=rejected)
    except (PluginError, ConfigError, DatasetUnavailable, PluginExit) as exc:
        raise click.ClickException(str(exc)) from None
    if not shown:
        raise click.ClickException(f"source {source!r} gave no valid items")


def _show(title: str, **parts: str) -> None:
    click.echo(f"=== {title}")
    for label, text in parts.items():
        click.echo(f"--- {label}")
        click.echo(text)
    click.echo()
