"""Write synthetic upstream data for bagel's biggest sources into a --data-root layout.

    python benchmarks/generate.py --data-root /tmp/bagel-data --items 1000000 --seed 0

See bagel_bench/generator.py for what is planted; ROOT/expected.json records it.
"""

from __future__ import annotations

import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

import click  # noqa: E402

from bagel_bench.generator import generate  # noqa: E402


@click.command()
@click.option("--data-root", type=click.Path(file_okay=False, path_type=Path), required=True, help="Folder to write ROOT/owner/name/ into.")
@click.option("--items", type=int, required=True, help="Upstream rows in all, split across sources by their real sizes.")
@click.option("--seed", type=int, default=0, show_default=True)
def main(data_root: Path, items: int, seed: int) -> None:
    started = time.perf_counter()
    plan = generate(data_root, items, seed)
    for source, planted in plan["planted"].items():
        click.echo(f"{source:14} rows {planted['rows']:>9,}  loaded {planted['loaded']:>9,}  duplicates {sum(planted['duplicates_of'].values()):>7,}")
    click.echo(f"wrote {data_root} in {time.perf_counter() - started:.1f}s")


if __name__ == "__main__":
    main()
