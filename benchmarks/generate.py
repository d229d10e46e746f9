"""Write synthetic upstream data for bagel's biggest sources into a --data-root layout.

    python benchmarks/generate.py --data-root /tmp/bagel-data --items 1000000 --seed 0
    python benchmarks/generate.py --realistic --data-root /tmp/bagel-v02 [--items N] [--recipe recipes/bagel-v0.2.toml]

See bagel_bench/generator.py for what is planted (ROOT/expected.json records it), and
bagel_bench/realistic.py for the realistic mixture (every component of a recipe, real text;
ROOT/realistic.json records the rows written).
"""

from __future__ import annotations

import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

import click  # noqa: E402
from bagel_bench import realistic as realistic_mixture  # noqa: E402
from bagel_bench.generator import generate  # noqa: E402

RECIPE = Path(__file__).resolve().parent.parent / "recipes" / "bagel-v0.2.toml"


@click.command()
@click.option(
    "--data-root",
    type=click.Path(file_okay=False, path_type=Path),
    required=True,
    help="Folder to write ROOT/owner/name/ into.",
)
@click.option(
    "--items",
    type=int,
    help="Upstream rows in all, split across sources by their real sizes (--realistic: default the full mixture).",
)
@click.option("--seed", type=int, default=0, show_default=True)
@click.option(
    "--realistic",
    is_flag=True,
    help="Every component of --recipe, real text of ../shared/data/sources, in each one's upstream layout.",
)
@click.option(
    "--recipe",
    type=click.Path(dir_okay=False, exists=True, path_type=Path),
    default=RECIPE,
    show_default=True,
    help="With --realistic: whose components to write.",
)
def main(data_root: Path, items: int | None, seed: int, realistic: bool, recipe: Path) -> None:
    started = time.perf_counter()
    if realistic:
        summary = realistic_mixture.generate(data_root, recipe, items or realistic_mixture.FULL, seed, click.echo)
        total = sum(sum(files.values()) for files in summary["rows"].values())
        click.echo(f"wrote {total:,} rows into {data_root} in {time.perf_counter() - started:.1f}s")
        return
    if items is None:
        raise click.UsageError("--items is required (except with --realistic)")
    plan = generate(data_root, items, seed)
    for source, planted in plan["planted"].items():
        click.echo(
            f"{source:14} rows {planted['rows']:>9,}  loaded {planted['loaded']:>9,}  duplicates {sum(planted['duplicates_of'].values()):>7,}"
        )
    click.echo(f"wrote {data_root} in {time.perf_counter() - started:.1f}s")


if __name__ == "__main__":
    main()
