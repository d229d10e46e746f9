"""Scale benchmark of the bagel pipeline on generated data (see benchmarks/README.md).

python benchmarks/run_scale.py --sizes 100000,1000000,2000000
"""

from __future__ import annotations

import sys
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))

import click  # noqa: E402
from bagel_bench.harness import run_all, table  # noqa: E402


@click.command()
@click.option(
    "--sizes", default="100000,1000000,2000000", show_default=True, help="Source items per run, comma-separated."
)
@click.option("--seed", type=int, default=0, show_default=True, help="Seed of the generated data.")
@click.option(
    "--cache",
    type=click.Path(file_okay=False, path_type=Path),
    default=Path("/tmp/bagel-scale"),
    show_default=True,
    help="Generated data (kept) and run folders.",
)
@click.option("--num-proc", type=int, default=2, show_default=True)
@click.option(
    "--embedding-queries",
    type=int,
    default=500,
    show_default=True,
    help="Items the embedding decontaminator searches alone (0: skip it).",
)
@click.option(
    "--benchmark-texts",
    type=int,
    default=30000,
    show_default=True,
    help="Synthetic benchmark texts the n-gram decontaminator indexes alone (the real sets hold about 30,000).",
)
@click.option(
    "--embedding-benchmark-texts",
    type=int,
    default=1000,
    show_default=True,
    help="Synthetic benchmark texts the embedding decontaminator indexes alone (it encodes them on CPU).",
)
@click.option("--uncapped", is_flag=True, help="Lift the slimorca and mathinstruct caps, so every item is rendered.")
@click.option("--dedup", default="exact", show_default=True, help="Dedupers of the pipeline run (e.g. exact,minhash).")
@click.option(
    "--decontamination-alone/--no-decontamination-alone",
    "alone",
    default=True,
    show_default=True,
    help="Also run the decontaminators alone on the deduplicated items.",
)
@click.option(
    "--results", type=click.Path(file_okay=False, path_type=Path), default=HERE / "results", show_default=True
)
@click.option("--readme/--no-readme", default=True, show_default=True, help="Update the table in benchmarks/README.md.")
def main(
    sizes: str,
    seed: int,
    cache: Path,
    num_proc: int,
    embedding_queries: int,
    benchmark_texts: int,
    embedding_benchmark_texts: int,
    uncapped: bool,
    dedup: str,
    alone: bool,
    results: Path,
    readme: bool,
) -> None:
    report = run_all(
        [int(s) for s in sizes.split(",") if s.strip()],
        seed,
        cache,
        num_proc,
        embedding_queries,
        benchmark_texts,
        embedding_benchmark_texts,
        uncapped,
        results,
        HERE / "README.md" if readme else None,
        lambda m: click.echo(m, err=True),
        dedup,
        alone,
    )
    click.echo(table(report))


if __name__ == "__main__":
    main()
