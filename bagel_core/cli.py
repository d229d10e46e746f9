"""The ``bagel`` command line. Light commands import neither torch, transformers nor faiss."""

from __future__ import annotations

import dataclasses
import json
import sys
import typing
from pathlib import Path
from typing import Any, Optional

import click

from .plugins import PluginError, Registry, load_plugins

_LOADED: Optional[tuple[Any, Registry]] = None


def _load(strict: Optional[bool] = None) -> tuple[Any, Registry]:
    """The plugin manager and registry, loaded once per process; plugin errors are warned about."""
    global _LOADED
    if _LOADED is None:
        try:
            _LOADED = load_plugins(strict=strict)
        except PluginError as exc:
            raise click.ClickException(str(exc)) from None
        for error in _LOADED[1].errors:
            click.echo(f"warning: plugin {error}", err=True)
    return _LOADED


def registry() -> Registry:
    return _load()[1]


@click.group(context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(package_name="bagel-core")
@click.option("--strict", is_flag=True, envvar="BAGEL_STRICT_PLUGINS", help="Fail on any plugin load error.")
def cli(strict: bool) -> None:
    """bagel: compose a clean, multi-format fine-tuning dataset from many sources, and train on it."""
    if strict:
        global _LOADED
        _LOADED = None
        _load(strict=True)


# --- list-plugins ----------------------------------------------------------------------------


@cli.command("list-plugins")
@click.option("--json", "as_json", is_flag=True, help="Machine-readable output.")
def list_plugins(as_json: bool) -> None:
    """List installed plugins, the components they provide, and load errors."""
    reg = registry()
    if as_json:
        payload = []
        for p in reg.plugins:
            entry = p.as_dict()
            entry["components"] = {
                kind: [
                    {"name": n, "description": reg.of(kind)[n].cls.description, **reg.of(kind)[n].cls.metadata()}
                    for n in names if n in reg.of(kind) and reg.of(kind)[n].plugin is p
                ]
                for kind, names in p.components.items()
            }
            payload.append(entry)
        click.echo(json.dumps(payload, indent=2, default=str))
        return
    for p in reg.plugins:
        state = " [blocked]" if p.blocked else ""
        parts = [f"{kind}s: {', '.join(_describe(reg, kind, n) for n in names)}" for kind, names in sorted(p.components.items())]
        click.echo(f"{p.name} ({p.distribution} {p.version}){state}" + (": " + "; ".join(parts) if parts else ""))
        if p.error:
            click.echo(f"  error: {p.error.strip().splitlines()[-1]}")


def _describe(reg: Registry, kind: str, name: str) -> str:
    info = reg.of(kind).get(name)
    ids = list(getattr(info.cls, "dataset_ids", ())) if info else []
    return f"{name} [{', '.join(ids)}]" if ids else name


# --- run -------------------------------------------------------------------------------------


@cli.command("run")
@click.option("--recipe", type=click.Path(exists=True, dir_okay=False, path_type=Path), help="TOML recipe; flags override it.")
@click.option("--sources", help="Sources: a,b | all | none.")
@click.option("--dpo", help="DPO pair builders: a,b | all | none.")
@click.option("--formats", help="Prompt formats: a,b | all.")
@click.option("--decontaminate", help="Decontaminators: a,b | none.")
@click.option("--benchmarks", help="Benchmark sets to decontaminate against: a,b | all.")
@click.option("--decontaminate-dry-run", is_flag=True, default=None, help="Report contamination, remove nothing.")
@click.option("--embedding-model", help="Model (id or path) of the embedding decontaminator [all-MiniLM-L6-v2].")
@click.option("--data-root", type=click.Path(file_okay=False, path_type=Path), help="Read dataset owner/name from ROOT/owner/name/.")
@click.option("--sample", is_flag=True, default=None, help="Use the small samples the plugins ship (no network).")
@click.option("--out", type=click.Path(file_okay=False, path_type=Path), help="Output folder [bagel-out].")
@click.option("--work-dir", type=click.Path(file_okay=False, path_type=Path), help="Stage cache [OUT/.bagel-work].")
@click.option("--seed", type=int, help="Seed of every random choice [42].")
@click.option("--num-proc", type=int, help="Worker processes [1].")
@click.option("--copies-per-item", type=int, help="Render each item into K of the formats [all].")
@click.option("--tokenizer", help="Tokenizer (path or id) whose BOS/EOS the formats use.")
@click.option("--quiet", "-q", is_flag=True, help="No progress bars or summary.")
def run_command(recipe: Optional[Path], quiet: bool, embedding_model: Optional[str], **flags: Any) -> None:
    """Compose the dataset: load, dedup, decontaminate, render, write."""
    from .config import ConfigError, RunConfig, load_recipe
    from .data import DatasetUnavailable
    from .pipeline import run
    from .stages.load import LoadError

    values = load_recipe(recipe) if recipe else {}
    values.update({k: v for k, v in flags.items() if v is not None})
    if embedding_model:  # the same as [decontaminator.embedding] model = ... in a recipe
        values.setdefault("options", {}).setdefault("decontaminator", {}).setdefault("embedding", {})["model"] = embedding_model
    config = RunConfig(**values)
    log = (lambda m: None) if quiet else (lambda m: click.echo(m, err=True))
    if quiet:
        import datasets

        datasets.disable_progress_bars()
    try:
        result = run(config, registry(), quiet=quiet, log=log)
    except (ConfigError, PluginError, DatasetUnavailable, LoadError, ValueError) as exc:
        raise click.ClickException(str(exc)) from None
    if not quiet:
        click.echo(summary_table(result.manifest))
        timing = ", ".join(f"{k} {v:.1f}s" for k, v in result.timings.items())
        click.echo(f"wrote {config.out}" + (f" ({timing})" if timing else " (up to date)"))


def summary_table(manifest: dict[str, Any]) -> str:
    header = ["source", "loaded", "rejected", "filtered", "dups", "contam", "sft rows", "dpo rows"]
    rows = [
        [name, s["loaded"], sum(s["rejected"].values()), sum(s["filtered"].values()), s["duplicates"], s["contaminated"], s["rows_written"]["sft"], s["rows_written"]["dpo"]]
        for name, s in manifest["sources"].items()
    ]
    t = manifest["totals"]
    rows.append(["TOTAL", t["loaded"], sum(r[2] for r in rows), sum(r[3] for r in rows), t["duplicates"], t["contaminated"], t["sft_rows"], t["dpo_rows"]])
    widths = [max(len(str(r[i])) for r in [header, *rows]) for i in range(len(header))]
    line = lambda r: "  ".join(str(c).ljust(w) if i == 0 else str(c).rjust(w) for i, (c, w) in enumerate(zip(r, widths)))
    return "\n".join([line(header), line(["-" * w for w in widths]), *map(line, rows)])


# --- train -----------------------------------------------------------------------------------


def option_params(options_cls: type) -> list[click.Option]:
    """A click option per field of an ``Options`` dataclass (``foo_bar`` -> ``--foo-bar``)."""
    hints = typing.get_type_hints(options_cls)
    params = []
    for f in dataclasses.fields(options_cls):
        hint = hints[f.name]
        args = typing.get_args(hint)
        origin = typing.get_origin(hint)
        if origin is typing.Union and type(None) in args:  # Optional[X]
            hint = next(a for a in args if a is not type(None))
            origin, args = typing.get_origin(hint), typing.get_args(hint)
        default = None if f.default is dataclasses.MISSING else f.default
        flag = "--" + f.name.replace("_", "-")
        help_text = f.metadata.get("help", "")
        if hint is bool:
            params.append(click.Option([f"{flag}/--no-{flag[2:]}", f.name], default=default, show_default=True, help=help_text))
        elif origin is typing.Literal:
            params.append(click.Option([flag, f.name], type=click.Choice([str(a) for a in args]), default=default, show_default=True, help=help_text))
        elif origin in (list, tuple):
            params.append(click.Option([flag, f.name], multiple=True, default=default or (), show_default=True, help=help_text))
        else:
            params.append(click.Option([flag, f.name], type=hint if hint in (int, float, str) else str, default=default, show_default=True, required=f.default is dataclasses.MISSING and f.default_factory is dataclasses.MISSING, help=help_text))  # type: ignore[misc]
    return params


class TrainGroup(click.Group):
    """``bagel train NAME``: one subcommand per registered trainer, built on demand."""

    def list_commands(self, ctx: click.Context) -> list[str]:
        return sorted(registry().of("trainer"))

    def get_command(self, ctx: click.Context, name: str) -> Optional[click.Command]:
        info = registry().of("trainer").get(name)
        if info is None:
            return None
        cls = info.cls

        def callback(**values: Any) -> None:
            values = {k: (tuple(v) if isinstance(v, list) else v) for k, v in values.items()}
            cls(cls.Options(**values)).train()

        return click.Command(name, params=option_params(cls.Options), callback=callback, help=cls.description, short_help=cls.description)


@cli.group("train", cls=TrainGroup)
def train() -> None:
    """Fine-tune a model on bagel's output (SFT, then DPO)."""


from .cli_formats import chat_template_command, preview_command  # noqa: E402 (needs cli defined)

cli.add_command(chat_template_command)
cli.add_command(preview_command)


def main() -> None:
    try:
        pm, _ = _load()
        pm.hook.register_commands(cli=cli)
    except click.ClickException as exc:
        exc.show()
        sys.exit(exc.exit_code)
    cli(prog_name="bagel")
