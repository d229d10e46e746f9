"""The ``bagel`` command line. Light commands import neither torch, transformers nor faiss."""

from __future__ import annotations

import dataclasses
import json
import shlex
import sys
import typing
from pathlib import Path
from typing import Any, Optional

import click

from . import errors, registry
from .cli_formats import chat_template_command, preview_command
from .cli_outputs import export_command, push_command, report_command
from .processes import Interrupted, stop_on_signals
from .registry import KINDS, PluginError, Registry


def _registry(strict: Optional[bool] = None) -> Registry:
    """This process's registry; a fatal plugin error (strict mode) is a one-line CLI error."""
    try:
        return registry.current(strict=strict)
    except PluginError as exc:
        raise click.ClickException(str(exc)) from None


@click.group(context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(package_name="bagel-core")
@click.option("--strict", is_flag=True, envvar="BAGEL_STRICT_PLUGINS", help="Fail on any plugin load error.")
@click.option("--debug", is_flag=True, envvar=errors.DEBUG_ENV, help="Show the traceback of an error.")
def cli(strict: bool, debug: bool) -> None:
    """bagel: compose a clean, multi-format fine-tuning dataset from many sources, and train on it."""
    errors.set_debug(debug)
    if strict:
        registry.use(None)  # loaded by main() for its commands, maybe not strictly: load again
    for error in _registry(strict=strict or None).errors:
        click.echo(f"warning: plugin {error}", err=True)


# --- list-plugins ----------------------------------------------------------------------------


@cli.command("list-plugins")
@click.option("--json", "as_json", is_flag=True, help="Machine-readable output.")
def list_plugins(as_json: bool) -> None:
    """List installed plugins, the components they provide, load errors and name clashes."""
    reg = _registry()
    if as_json:
        payload = []
        for p in reg.plugins:
            entry = p.as_dict()
            entry["components"] = {}
            for c in reg.registered:
                if c.plugin is p:
                    entry["components"].setdefault(c.cls.kind, []).append(
                        {"name": c.name, "description": c.cls.description, **c.cls.metadata()}
                    )
            payload.append(entry)
        click.echo(json.dumps(payload, indent=2, default=str))
        return
    for p in reg.plugins:
        state = " [blocked]" if p.blocked else ""
        mine = [c for c in reg.registered if c.plugin is p]
        parts = [
            f"{k.listing}: {', '.join(_describe(reg, c) for c in mine if c.cls.kind == k.name)}"
            for k in KINDS if any(c.cls.kind == k.name for c in mine)
        ]
        click.echo(f"{p.name} ({p.distribution} {p.version}){state}" + (": " + "; ".join(parts) if parts else ""))
        if p.error:
            click.echo(f"  error: {p.error}")
        for clash in p.clashes:
            click.echo(f"  clash: {clash}")


def _describe(reg: Registry, c: registry.ComponentInfo) -> str:
    ids = list(getattr(c.cls, "dataset_ids", ()))
    text = f"{c.name} [{', '.join(ids)}]" if ids else c.name
    return text + (" (clash)" if (c.cls.kind, c.name) in reg.clashes else "")


# --- run -------------------------------------------------------------------------------------


def _run_choices(name: str) -> tuple[str, ...]:
    """The choices of a ``Literal`` field of :class:`RunConfig` (one list, the dataclass's)."""
    from .config import RunConfig

    return typing.get_args(typing.get_type_hints(RunConfig)[name])


def _run_default(name: str) -> Any:
    """The default of a field of :class:`RunConfig`, for the help of its flag."""
    from .config import RunConfig

    return next(f.default for f in dataclasses.fields(RunConfig) if f.name == name)


@cli.command("run")
@click.option("--recipe", type=click.Path(exists=True, dir_okay=False, path_type=Path), help="TOML recipe; flags override it.")
@click.option("--sources", help="Sources: a,b | all | none.")
@click.option("--dpo", help="DPO pair builders: a,b | all | none.")
@click.option("--formats", help="Prompt formats: a,b | all.")
@click.option("--dedup", help="Dedupers, chained in order: a,b | none [exact]; e.g. exact,minhash.")
@click.option("--decontaminate", help=f"Decontaminators: a,b | none [{_run_default('decontaminate')}].")
@click.option("--benchmarks", help="Benchmark sets to decontaminate against: a,b | all.")
@click.option("--decontaminate-dry-run", is_flag=True, default=None, help="Report contamination, remove nothing.")
@click.option("--data-root", type=click.Path(file_okay=False, path_type=Path), help="Read dataset owner/name from ROOT/owner/name/.")
@click.option("--sample", is_flag=True, default=None, help="Use the small samples the plugins ship (no network).")
@click.option("--out", type=click.Path(file_okay=False, path_type=Path), help="Output folder [bagel-out].")
@click.option("--work-dir", type=click.Path(file_okay=False, path_type=Path), help="Stage cache [OUT/.bagel-work].")
@click.option("--seed", type=int, help="Seed of every random choice [42].")
@click.option("--num-proc", type=int, help="Worker processes for loading, decontamination and rendering [1].")
@click.option("--copies-per-item", type=int, help="Render each item into K of the formats [all].")
@click.option("--format-assignment", type=click.Choice(_run_choices("format_assignment")), help="How an item's K formats are chosen: spread (equal shares) or random per item (the reference at v0.2) [spread].")
@click.option("--newlines", type=click.Choice(_run_choices("newlines")), help="Newline clean-up of answers (none: the reference at v0.1/v0.2) [newline-runs].")
@click.option("--dedup-scope", type=click.Choice(_run_choices("dedup_scope")), help="separate: SFT and DPO deduplicated apart; shared: one set of ids, as the reference [separate].")
@click.option("--tokenizer", help="Tokenizer (path or id) whose BOS/EOS the formats use.")
@click.option("--option", "-o", "option", multiple=True, metavar="KIND.NAME.KEY=VALUE", help="A component option, as in a recipe table, e.g. -o source.slimorca.max_items=5000 or -o decontaminator.embedding.model=PATH (repeatable).")
@click.option("--quiet", "-q", is_flag=True, help="No progress bars or summary.")
@click.option("--plan", "plan", is_flag=True, help="Print the expected items and rows per source and format (load and dedup only; nothing rendered or written to OUT).")
@click.option("--plan-json", type=click.Path(dir_okay=False, path_type=Path), help="With --plan: also write the plan as JSON to this file.")
def run_command(recipe: Optional[Path], quiet: bool, option: tuple[str, ...], plan: bool, plan_json: Optional[Path], **flags: Any) -> None:
    """Compose the dataset: load, dedup, decontaminate, render, write."""
    from .config import ConfigError, RunConfig, load_recipe, merge_options, option_assignments
    from .data import DatasetUnavailable
    from .options import parse_assignments
    from .pipeline import DecontaminationUnavailable, run
    from .publish import OutputNotWritable
    from .stages.decontaminate import BenchmarkError
    from .stages.load import LoadError

    try:
        values = load_recipe(recipe) if recipe else {}
        values.update({k: v for k, v in flags.items() if v is not None})
        values["options"] = merge_options(values.get("options", {}), option_assignments(parse_assignments(option, "-o")))
        config = RunConfig(**values)
    except ConfigError as exc:
        raise click.ClickException(str(exc)) from None
    log = (lambda m: None) if quiet else (lambda m: click.echo(m, err=True))
    if quiet:
        import datasets

        datasets.disable_progress_bars()
    try:
        result = run(config, _registry(), quiet=quiet, log=log, plan=plan, command=shlex.join(["bagel", *sys.argv[1:]]))
    except (ConfigError, PluginError, DatasetUnavailable, DecontaminationUnavailable, LoadError, BenchmarkError, OutputNotWritable,
            ValueError) as exc:
        errors.print_traceback(exc)
        raise click.ClickException(str(exc)) from None
    if plan:
        from .plan import plan_table

        click.echo(plan_table(result.manifest))
        if plan_json:
            plan_json.write_text(json.dumps(result.manifest, indent=2) + "\n")
        return
    for warning in result.manifest.get("warnings", []):  # even with --quiet: the data is suspect
        click.secho(f"warning: {warning}", err=True, fg="yellow", bold=True)
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


def option_params(options_cls: type, required: bool = True) -> list[click.Option]:
    """A click option per field of an ``Options`` dataclass (``foo_bar`` -> ``--foo-bar``);
    ``required=False`` leaves required fields to be checked later (a config file may set them)."""
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
            params.append(click.Option([flag, f.name], type=hint if hint in (int, float, str) else str, default=default, show_default=True, required=required and f.default is dataclasses.MISSING and f.default_factory is dataclasses.MISSING, help=help_text))  # type: ignore[misc]
    return params


class TrainGroup(click.Group):
    """``bagel train NAME``: one subcommand per registered trainer, built on demand, beside
    the group's own commands (``merge``)."""

    def list_commands(self, ctx: click.Context) -> list[str]:
        return sorted({*_registry().of("trainer"), *self.commands})

    def get_command(self, ctx: click.Context, name: str) -> Optional[click.Command]:
        if name in self.commands:
            return self.commands[name]
        if name not in _registry().of("trainer"):
            return None
        try:
            cls = _registry().get("trainer", name).cls
        except PluginError as exc:  # two plugins registered this trainer
            raise click.ClickException(str(exc)) from None

        def callback(config: Optional[Path], verbose: int, quiet: bool, **values: Any) -> None:
            from .builtin import train_config
            from .config import ConfigError
            from .options import build

            here = click.get_current_context()
            given = {k for k in values if here.get_parameter_source(k) == click.core.ParameterSource.COMMANDLINE}
            values = {k: (tuple(v) if isinstance(v, list) else v) for k, v in values.items()}
            try:
                values = train_config.merge(config, cls.Options, values, given)
                # The trainer's own required options (a config file may set them too).
                for f in dataclasses.fields(cls.Options):
                    if f.default is dataclasses.MISSING and f.default_factory is dataclasses.MISSING and values.get(f.name) is None:
                        raise click.UsageError(f"Missing option '--{f.name.replace('_', '-')}' (on the command line or in --config).")
                cls.setup_logs(verbose, quiet)
                cls(build(f"trainer {name!r}", cls.Options, values)).train()
            except ConfigError as exc:  # a bad option or input of the trainer: one line
                raise click.ClickException(str(exc)) from None

        params = [
            click.Option(["--config"], type=click.Path(exists=True, dir_okay=False, path_type=Path), help="TOML/YAML file of these options ([args]: other trl fields); flags override it."),
            click.Option(["-v", "--verbose"], count=True, help="Show the libraries' info logs and progress bars."),
            click.Option(["-q", "--quiet"], is_flag=True, help="No progress bar (the metrics of each logging step still show)."),
            *option_params(cls.Options, required=False),
        ]
        return click.Command(name, params=params, callback=callback, help=cls.description, short_help=cls.description)


@cli.group("train", cls=TrainGroup)
def train() -> None:
    """Fine-tune a model on bagel's output (SFT, then DPO)."""


from .builtin.train_export import merge_command  # noqa: E402

train.add_command(merge_command)
cli.add_command(chat_template_command)
cli.add_command(preview_command)
cli.add_command(export_command)
cli.add_command(push_command)
cli.add_command(report_command)


def main() -> None:
    try:
        _registry().manager.hook.register_commands(cli=cli)
    except click.ClickException as exc:
        exc.show()
        sys.exit(exc.exit_code)
    try:
        with stop_on_signals():
            cli(prog_name="bagel")
    except Interrupted as exc:
        print(f"Error: {exc}; finished stages are kept: run the same command again to resume", file=sys.stderr)
        sys.exit(exc.exit_code)
    except Exception as exc:  # not handled by a command: the environment, or a bug
        message = errors.describe(exc)
        if message is None and not errors.debug():
            message = f"{type(exc).__name__}: {exc} (--debug shows the traceback)"
        errors.report(exc, message)
        sys.exit(1)
