"""The ``bagel`` command line. Light commands import neither torch, transformers nor faiss."""

from __future__ import annotations

import dataclasses
import json
import shlex
import sys
import types
import typing
from pathlib import Path
from typing import Any, cast

import click

from . import PLUGIN_API_VERSION, __version__, errors, registry
from .cli_formats import chat_template_command, preview_command
from .cli_outputs import export_command, push_command, report_command
from .components import Trainer
from .manifest import Manifest
from .privacy import tilde
from .processes import Interrupted, stop_on_signals
from .registry import KINDS, ComponentInfo, Kind, PluginError, Registry


def _registry(strict: bool | None = None) -> Registry:
    """This process's registry; a fatal plugin error (strict mode) is a one-line CLI error."""
    try:
        return registry.current(strict=strict)
    except PluginError as exc:
        raise click.ClickException(str(exc)) from None


@click.group(context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(
    __version__, message=f"%(prog)s %(version)s (plugin API {PLUGIN_API_VERSION[0]}.{PLUGIN_API_VERSION[1]})"
)
@click.option("--strict", is_flag=True, envvar="BAGEL_STRICT_PLUGINS", help="Fail on any plugin load error.")
@click.option("--debug", is_flag=True, envvar=errors.DEBUG_ENV, help="Show the traceback of an error.")
def cli(strict: bool, debug: bool) -> None:
    """bagel: compose a clean, multi-format fine-tuning dataset from many public datasets, and train on it."""
    errors.set_debug(debug)
    if strict:
        registry.use(None)  # loaded by main() for its commands, maybe not strictly: load again
    for error in _registry(strict=strict or None).errors:
        click.echo(f"warning: plugin {error}", err=True)


# --- list-plugins ----------------------------------------------------------------------------


@cli.command("list-plugins")
@click.option("--json", "as_json", is_flag=True, help="Machine-readable output.")
@click.option("--verbose", "-v", is_flag=True, help="One component per line, with its upstream datasets.")
def list_plugins(as_json: bool, verbose: bool) -> None:
    """List installed plugins, the components they provide, load errors and name clashes."""
    from .containment import stdout_to_stderr

    reg = _registry()
    if as_json:
        payload = []
        with stdout_to_stderr():  # a component's metadata() is plugin code: stdout holds the JSON alone
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
    click.echo(plugin_table(reg, verbose))


#: Characters of the components column before it is cut (``--verbose`` lists them all).
COMPONENTS_WIDTH = 60


def plugin_table(reg: Registry, verbose: bool = False) -> str:
    """``bagel list-plugins``: one row per plugin and kind (per component with ``verbose``),
    then each plugin's errors and clashes on their own lines, highlighted on a terminal."""
    rows: list[tuple[list[str], str | None]] = []  # cells, colour of the status
    notes: list[str] = []
    for p in reg.plugins:
        mine = [c for c in reg.registered if c.plugin is p]
        status, colour = (
            ("blocked", "yellow")
            if p.blocked
            else ("error", "red")
            if p.error
            else ("clash", "red")
            if p.clashes
            else ("ok", None)
        )
        kinds: list[tuple[Kind | None, list[ComponentInfo]]] = [
            (k, [c for c in mine if c.cls.kind == k.name]) for k in KINDS
        ]
        kinds = [(k, cs) for k, cs in kinds if cs]
        first = True
        for k, components in kinds or [(None, [])]:
            if verbose and components:
                names = [_describe(reg, c) for c in components]
            else:
                joined = (
                    ", ".join(c.name + (" (clash)" if (c.cls.kind, c.name) in reg.clashes else "") for c in components)
                    or "-"
                )
                if len(joined) > COMPONENTS_WIDTH:
                    cut = joined[:COMPONENTS_WIDTH].rsplit(", ", 1)[0]
                    joined = f"{cut}, ... ({len(components)}; --verbose)"
                names = [joined]
            for name in names:
                rows.append(
                    (
                        [
                            p.name if first else "",
                            p.version if first else "",
                            (k.listing if k else "-") if name is names[0] else "",
                            name,
                            status if first else "",
                        ],
                        colour if first else None,
                    )
                )
                first = False
        if p.error:
            notes.append(click.style(f"{p.name}: error: {p.error}", fg="red", bold=True))
        notes += [click.style(f"{p.name}: clash: {clash}", fg="red") for clash in p.clashes]
    head = ["plugin", "version", "kind", "components", "status"]
    widths = [max(len(r[i]) for r in [head, *(cells for cells, _ in rows)]) for i in range(len(head))]

    def line(cells: list[str]) -> str:
        return "  ".join(c.ljust(w) for c, w in zip(cells, widths)).rstrip()

    out = [click.style(line(head), bold=True)]
    for cells, colour in rows:
        text = line(cells)
        if colour:  # colour only the status word, at the end of the line
            text = text[: len(text) - len(cells[-1])] + click.style(cells[-1], fg=colour, bold=True)
        out.append(text)
    return "\n".join(out + ([""] + notes if notes else []))


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


RUN_EXAMPLES = """Examples:

\b
  bagel run --sample --out bagel-out                   # every plugin's shipped samples, no network
  bagel run --sources slimorca,airoboros --dpo none --formats chatml --out out/
  bagel run --recipe recipes/bagel-v0.2.toml --data-root /data/hf --num-proc 2 --out out/
  bagel run --sample --plan                            # rows per source and format, nothing written
  bagel report bagel-out                               # then look at bagel-out/report.html
"""


@cli.command("run", epilog=RUN_EXAMPLES)
@click.option(
    "--recipe", type=click.Path(exists=True, dir_okay=False, path_type=Path), help="TOML recipe; flags override it."
)
@click.option("--sources", help="Sources: a,b | all | none.")
@click.option("--dpo", help="DPO builders: a,b | all | none.")
@click.option("--formats", help="Prompt formats: a,b | all.")
@click.option("--dedup", help="Dedupers, chained in order: a,b | none [exact]; e.g. exact,minhash.")
@click.option("--decontaminate", help=f"Decontaminators: a,b | none [{_run_default('decontaminate')}].")
@click.option("--benchmarks", help="Benchmark sets to decontaminate against: a,b | all.")
@click.option("--decontaminate-dry-run", is_flag=True, default=None, help="Report contamination, remove nothing.")
# Paths as strings: RunConfig checks them, and refuses "" (an unset shell variable), which
# click would have turned into Path(".").
@click.option("--data-root", metavar="PATH", help="Read dataset owner/name from ROOT/owner/name/.")
@click.option("--sample", is_flag=True, default=None, help="Use the small samples the plugins ship (no network).")
@click.option("--out", metavar="PATH", help="Output folder [bagel-out].")
@click.option("--work-dir", metavar="PATH", help="Stage cache [OUT/.bagel-work].")
@click.option("--seed", type=int, help="Seed of every random choice [42].")
@click.option(
    "--num-proc",
    type=int,
    help="Worker processes for loading, decontamination and rendering, at most the usable CPU cores [1].",
)
@click.option(
    "--item-time-limit",
    type=float,
    help="Seconds a source or DPO builder may spend on one row; a slower conversion is counted as rejected [no limit].",
)
@click.option("--copies-per-item", type=int, help="Render each item into K of the formats [all].")
@click.option(
    "--format-assignment",
    type=click.Choice(_run_choices("format_assignment")),
    help="How an item's K formats are chosen: spread (equal shares), random per item (the reference at v0.2) or chunks (the reference later; DPO pairs unshuffled) [spread].",
)
@click.option(
    "--newlines",
    type=click.Choice(_run_choices("newlines")),
    help="Newline clean-up of answers (none: the reference at v0.1/v0.2) [newline-runs].",
)
@click.option(
    "--dedup-scope",
    type=click.Choice(_run_choices("dedup_scope")),
    help="separate: SFT and DPO deduplicated apart; shared: one set of ids, as the reference [separate].",
)
@click.option("--tokenizer", help="Tokenizer (path or id) whose BOS/EOS the formats use.")
@click.option(
    "--option",
    "-o",
    "option",
    multiple=True,
    metavar="KIND.NAME.KEY=VALUE",
    help="A component option, as in a recipe table, e.g. -o source.slimorca.max_items=5000 or -o decontaminator.embedding.model=PATH (repeatable).",
)
@click.option("--quiet", "-q", is_flag=True, help="No progress or summary; warnings and errors only.")
@click.option("--verbose", "-v", is_flag=True, help="Also print the table of counts per source and DPO builder.")
@click.option(
    "--plan",
    "plan",
    is_flag=True,
    help="Print the expected items and rows per source or DPO builder and format (load and dedup only; nothing rendered or written to OUT).",
)
@click.option(
    "--plan-json",
    type=click.Path(dir_okay=False, path_type=Path),
    help="With --plan: also write the plan as JSON to this file.",
)
@click.option(
    "--force",
    is_flag=True,
    help="Publish into a folder holding files bagel did not write: bagel's own file names there are replaced, nothing else is touched.",
)
@click.option("--allow-empty", is_flag=True, help="Publish an output without rows over an earlier output with rows.")
def run_command(
    recipe: Path | None,
    quiet: bool,
    verbose: bool,
    option: tuple[str, ...],
    plan: bool,
    plan_json: Path | None,
    force: bool,
    allow_empty: bool,
    **flags: Any,
) -> None:
    """Compose the dataset: load, dedup, decontaminate, render, write."""
    from .console import log_warnings_cleanly, quiet_libraries

    quiet_libraries()
    log_warnings_cleanly()
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
        values["options"] = merge_options(
            values.get("options", {}), option_assignments(parse_assignments(option, "-o"))
        )
        config = RunConfig(**values)
        check_inputs(config)
    except ConfigError as exc:
        raise click.ClickException(tilde(str(exc))) from None
    log = (lambda m: None) if quiet else (lambda m: click.echo(m, err=True))
    try:
        result = run(
            config,
            _registry(),
            quiet=quiet,
            log=log,
            plan=plan,
            command=shlex.join(["bagel", *sys.argv[1:]]),
            force=force,
            allow_empty=allow_empty,
        )
    except (
        ConfigError,
        PluginError,
        DatasetUnavailable,
        DecontaminationUnavailable,
        LoadError,
        BenchmarkError,
        OutputNotWritable,
        ValueError,
    ) as exc:
        errors.print_traceback(exc)
        raise click.ClickException(tilde(str(exc))) from None
    if result.plan is not None:
        from .plan import plan_table

        click.echo(plan_table(result.plan))
        if plan_json:
            plan_json.write_text(json.dumps(result.plan, indent=2) + "\n")
        return
    assert result.manifest is not None  # not a plan: the run published one
    for warning in result.manifest.warnings:  # even with --quiet: the data is suspect
        click.secho(f"warning: {warning}", err=True, fg="yellow", bold=True)
    if not quiet:
        if verbose:
            click.echo(summary_table(result.manifest))
        click.echo(summary_lines(result.manifest, config.out, result.timings, result.reused))


def check_inputs(config: Any) -> None:
    """The input paths of a run exist, before anything is read or any folder made (the
    tokenizer is loaded then too: :func:`bagel_core.pipeline.special_tokens`)."""
    from .config import ConfigError

    if config.data_root is not None and not Path(config.data_root).is_dir():
        raise ConfigError(f"--data-root {config.data_root}: no such folder")


def summary_lines(manifest: Manifest, out: Path, timings: dict[str, float], reused: bool = False) -> str:
    """What a run did, in two lines (``--verbose`` adds the table per source)."""
    t = manifest.totals
    sources = manifest.sources.values()
    rejected = sum(sum(s.rejected.values()) for s in sources)
    filtered = sum(sum(s.filtered.values()) for s in sources)
    rows = t.sft_rows + t.dpo_rows
    timing = ", ".join(f"{k} {v:.1f}s" for k, v in timings.items())
    n = len(manifest.sources)
    return "\n".join(
        [
            f"{n} component{'' if n == 1 else 's'} loaded {t.loaded:,} items; removed: {rejected:,} rejected, {filtered:,} filtered, "
            f"{t.duplicates:,} duplicates, {t.contaminated:,} contaminated (per source: --verbose, {out}/manifest.json or `bagel report {out}`)",
            (f"{out} is up to date: {rows:,} rows" if reused else f"wrote {rows:,} rows to {out}")
            + f" ({t.sft_rows:,} sft, {t.dpo_rows:,} dpo, {t.conversations_rows:,} conversations)"
            + ("" if reused else f" in {sum(timings.values()):.1f}s ({timing})"),
        ]
    )


def summary_table(manifest: Manifest) -> str:
    header = ["source", "loaded", "rejected", "filtered", "dups", "contam", "sft rows", "dpo rows"]
    rows: list[list[Any]] = [[name, *s.counts()] for name, s in manifest.sources.items()]
    t = manifest.totals
    rows.append(
        [
            "TOTAL",
            t.loaded,
            sum(r[2] for r in rows),
            sum(r[3] for r in rows),
            t.duplicates,
            t.contaminated,
            t.sft_rows,
            t.dpo_rows,
        ]
    )
    widths = [max(len(str(r[i])) for r in [header, *rows]) for i in range(len(header))]

    def line(r: list) -> str:
        return "  ".join(str(c).ljust(w) if i == 0 else str(c).rjust(w) for i, (c, w) in enumerate(zip(r, widths)))

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
        if origin in (typing.Union, types.UnionType) and type(None) in args:  # Optional[X] or X | None
            hint = next(a for a in args if a is not type(None))
            origin, args = typing.get_origin(hint), typing.get_args(hint)
        default = None if f.default is dataclasses.MISSING else f.default
        flag = "--" + f.name.replace("_", "-")
        help_text = f.metadata.get("help", "")
        if hint is bool:
            params.append(
                click.Option([f"{flag}/--no-{flag[2:]}", f.name], default=default, show_default=True, help=help_text)
            )
        elif origin is typing.Literal:
            params.append(
                click.Option(
                    [flag, f.name],
                    type=click.Choice([str(a) for a in args]),
                    default=default,
                    show_default=True,
                    help=help_text,
                )
            )
        elif origin in (list, tuple):
            params.append(
                click.Option([flag, f.name], multiple=True, default=default or (), show_default=True, help=help_text)
            )
        else:
            params.append(
                click.Option(
                    [flag, f.name],
                    type=hint if hint in (int, float, str) else str,
                    default=default,
                    show_default=True,
                    required=required and f.default is dataclasses.MISSING and f.default_factory is dataclasses.MISSING,
                    help=help_text,
                )
            )  # type: ignore[misc]
    return params


class TrainGroup(click.Group):
    """``bagel train NAME``: one subcommand per registered trainer, built on demand, beside
    the group's own commands (``merge``)."""

    def list_commands(self, ctx: click.Context) -> list[str]:
        return sorted({*_registry().of("trainer"), *self.commands})

    def get_command(self, ctx: click.Context, name: str) -> click.Command | None:
        if name in self.commands:
            return self.commands[name]
        if name not in _registry().of("trainer"):
            return None
        try:
            # Registration checked that a trainer subclasses Trainer.
            cls = cast("type[Trainer]", _registry().get("trainer", name).cls)
        except PluginError as exc:  # two plugins registered this trainer
            raise click.ClickException(str(exc)) from None

        def callback(config: Path | None, verbose: int, quiet: bool, **values: Any) -> None:
            from .builtin.train import config as train_config
            from .config import ConfigError
            from .containment import PluginExit, contained, who
            from .options import build

            here = click.get_current_context()
            given = {k for k in values if here.get_parameter_source(k) == click.core.ParameterSource.COMMANDLINE}
            values = {k: (tuple(v) if isinstance(v, list) else v) for k, v in values.items()}
            try:
                values = train_config.merge(config, cls.Options, values, given)
                # The trainer's own required options (a config file may set them too).
                for f in dataclasses.fields(cls.Options):
                    if (
                        f.default is dataclasses.MISSING
                        and f.default_factory is dataclasses.MISSING
                        and values.get(f.name) is None
                    ):
                        raise click.UsageError(
                            f"Missing option '--{f.name.replace('_', '-')}' (on the command line or in --config)."
                        )
                cls.setup_logs(verbose, quiet)
                with contained(who(cls)):
                    cls(build(f"trainer {name!r}", cls.Options, values)).train()
            except (ConfigError, PluginExit) as exc:  # a bad option or input of the trainer: one line
                raise click.ClickException(str(exc)) from None

        params: list[click.Parameter] = [
            click.Option(
                ["--config"],
                type=click.Path(exists=True, dir_okay=False, path_type=Path),
                help="TOML/YAML file of these options ([args]: other trl fields); flags override it.",
            ),
            click.Option(["-v", "--verbose"], count=True, help="Show the libraries' info logs and progress bars."),
            click.Option(
                ["-q", "--quiet"], is_flag=True, help="No progress bar (the metrics of each logging step still show)."
            ),
            *option_params(cls.Options, required=False),
        ]
        return click.Command(name, params=params, callback=callback, help=cls.description, short_help=cls.description)


@cli.group("train", cls=TrainGroup)
def train() -> None:
    """Fine-tune a model on bagel's output (SFT, then DPO)."""


from .builtin.train.export import merge_command  # noqa: E402

train.add_command(merge_command)
cli.add_command(chat_template_command)
cli.add_command(preview_command)
cli.add_command(export_command)
cli.add_command(push_command)
cli.add_command(report_command)


def main() -> None:
    from .containment import PluginExit

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
    except PluginExit as exc:  # a plugin's sys.exit() in a stage: its message names it
        errors.report(exc, str(exc))
        sys.exit(1)
    except Exception as exc:  # not handled by a command: the environment, or a bug
        message = errors.describe(exc)
        if message is None and not errors.debug():
            message = f"{type(exc).__name__}: {exc} (--debug shows the traceback)"
        errors.report(exc, message)
        sys.exit(1)
