"""Which rendered rows differ between two output folders, and why: every differing row is put
down to a documented rendering change or counted as unexplained.

    python benchmarks/render_diff.py BASE_OUT WORK_OUT

For the folders ``side_by_side.py`` leaves (``CACHE/side-by-side/base/out`` and ``.../work/out``,
the same generated items). Rows are matched by position (both sides must hold the same ids and
formats in the same order) and compared by text: ``sft.parquet``'s prompt and completion (an
earlier bagel's ``input``/``output``), ``dpo.parquet``'s prompt, chosen and rejected. A differing
text is explained when it is one of :data:`CHANGES` applied to the base's text; anything else is
``unexplained`` and printed with an example (a bug until someone documents it).
"""

from __future__ import annotations

import sys
from collections import Counter
from pathlib import Path

import click
import pyarrow.parquet as pq

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from bagel_core.records import sft_text_columns  # noqa: E402

#: The default system prompts as 7a489fc rendered them and as d274f4f (issue 13) renders them:
#: llama-2 and chatml reworded to the reference's training string and drawn with p = 0.15
#: instead of 0.5, vicuna's kept and drawn with p = 0.35 (docs/fidelity.md, "rendering: default
#: system prompt"). The coin per item and format is the same stream, so an item either keeps
#: the prompt (reworded) or loses it; none gains one.
OLD_DEFAULT = "You are a helpful, unbiased, uncensored assistant."
NEW_DEFAULT = "You are an unbiased, uncensored, helpful assistant."
VICUNA_DEFAULT = "A chat between a user and an unbiased, uncensored assistant."
#: Characters of format markup a dropped system prompt may take with it (llama-2's
#: ``<<SYS>>\n...\n<</SYS>>\n\n``, chatml's ``system\n...\n</s>\n<s>``).
MARKUP = 24


def _removed_span(base: str, work: str) -> str | None:
    """What ``base`` has that ``work`` lacks when ``work`` is ``base`` with one span cut out."""
    if len(work) >= len(base):
        return None
    start = 0
    while start < len(work) and base[start] == work[start]:
        start += 1
    end = len(base) - (len(work) - start)
    return base[start:end] if base[end:] == work[start:] else None


def explain(base: str, work: str) -> str:
    """The documented change that turns ``base`` into ``work``, or ``unexplained``."""
    if base.replace(OLD_DEFAULT, NEW_DEFAULT) == work:
        return "default system prompt reworded to the reference's (d274f4f)"
    span = _removed_span(base, work)
    if span is not None and len(span) <= max(len(OLD_DEFAULT), len(VICUNA_DEFAULT)) + MARKUP:
        if OLD_DEFAULT in span or VICUNA_DEFAULT in span:
            return "default system prompt not drawn: p 0.5 -> 0.15 / 0.35 (d274f4f)"
    return "unexplained"


def _texts(path: Path, kind: str) -> tuple[list, dict[str, list[str]]]:
    names = pq.read_schema(path).names
    if kind == "sft":
        prompt, completion = sft_text_columns(names)
        columns = {"prompt": prompt, "completion": completion}
    else:
        columns = {c: c for c in ("prompt", "chosen", "rejected")}
    table = pq.read_table(path, columns=["id", "format", *columns.values()])
    keys = list(zip(table.column("id").to_pylist(), table.column("format").to_pylist()))
    return keys, {name: table.column(c).to_pylist() for name, c in columns.items()}


@click.command()
@click.argument("base_out", type=click.Path(file_okay=False, exists=True, path_type=Path))
@click.argument("work_out", type=click.Path(file_okay=False, exists=True, path_type=Path))
def main(base_out: Path, work_out: Path) -> None:
    unexplained = 0
    click.echo("| file | rows | column | format | rows differing | reason |")
    click.echo("| --- | ---: | --- | --- | ---: | --- |")
    for kind in ("sft", "dpo"):
        base_keys, base = _texts(base_out / f"{kind}.parquet", kind)
        work_keys, work = _texts(work_out / f"{kind}.parquet", kind)
        if base_keys != work_keys:
            raise click.ClickException(f"{kind}.parquet: the two sides hold different rows (ids, formats or order)")
        for column in base:
            reasons: Counter = Counter()
            example: dict[str, tuple[str, str]] = {}
            for (_, fmt), a, b in zip(base_keys, base[column], work[column]):
                if a != b:
                    reason = explain(a, b)
                    reasons[(fmt, reason)] += 1
                    example.setdefault(reason, (a, b))
            for (fmt, reason), n in sorted(reasons.items()):
                click.echo(f"| {kind}.parquet | {len(base_keys):,} | {column} | {fmt} | {n:,} | {reason} |")
                unexplained += n if reason == "unexplained" else 0
            if "unexplained" in example:
                a, b = example["unexplained"]
                click.echo(f"  e.g. base {a[:200]!r}\n       work {b[:200]!r}", err=True)
    click.echo(f"\nunexplained rows: {unexplained:,}")


if __name__ == "__main__":
    main()
