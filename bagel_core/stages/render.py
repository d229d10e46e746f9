"""Stage 4: render every item into its formats and write ``sft.parquet`` and ``dpo.parquet``.

Work is split by parquet row group; with ``num_proc`` > 1 row groups render in worker
processes and are written back in order, so the output is the same for any process count.
"""

from __future__ import annotations

import os
from collections import Counter
from collections.abc import Sequence
from contextlib import nullcontext
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any, ClassVar

import numpy as np
import pyarrow as pa
import pyarrow.parquet as pq

from ..components import PromptFormat, SpecialTokens
from ..console import progress
from ..containment import contained, who
from ..processes import in_order, worker_pool
from ..records import DPO_SCHEMA, SFT_SCHEMA
from ..rendering import (
    NEWLINE_RULES,
    FormatAssignment,
    NewlineRule,
    Renderer,
    chunk_formats,
    copy_order,
    formats_for,
    random_formats,
)
from ..storage import ParquetSink
from .conversations import CONVERSATIONS, write_conversations
from .runner import Stage

# The renderer and its settings: set once per process (the parent, and each worker through the
# pool's initializer), so formats are not pickled per task.
_STATE: dict = {}


#: Rendered characters a worker holds before it spills them to a scratch file: an item of n
#: turns renders into n/2 rows of up to n turns each, so a few long conversations would
#: otherwise hold gigabytes (docs/pipeline.md#limits-and-plugin-containment).
SPILL_CHARS = 64 << 20


def _set_state(state: dict) -> None:
    _STATE.clear()
    _STATE.update(state)


def _render_group(
    kind: str, path: str, group: int, ranks: np.ndarray | None, spill: str | None = None, dealt: int = 0
) -> tuple[pa.Table | str, Counter]:
    """Render one row group into output columns: a table, or, when its rendered text passes
    :data:`SPILL_CHARS`, the path ``spill`` of a scratch parquet file holding it (written in
    parts of about that size, so memory stays bounded whatever the items). ``ranks`` are the
    rows' places in the deal, of ``dealt`` places in all.

    Only the rendered inputs are new strings; ids, sources, format names and outputs are taken
    by index from arrays that hold each value once (an answer is shared by every format).
    """
    renderer: Renderer = _STATE["renderer"]
    copies: int = _STATE["copies"]
    n = len(renderer.formats)
    assignment = _STATE["assignment"]
    schema = SFT_SCHEMA if kind == "sft" else DPO_SCHEMA
    # One more name than formats: plain-text rows (index n) are in no format.
    names = pa.array([renderer.format_name(i) for i in range(n + 1)], pa.string())

    def which_of(i: int, item_id: str):
        if assignment == "random":
            return random_formats(renderer.seed, item_id, copies, n)
        rank = None if ranks is None else int(ranks[i])
        if assignment == "chunks" and rank is not None and rank >= 0:
            return chunk_formats(rank, dealt, n)
        return formats_for(rank, copies, n)

    table = pq.ParquetFile(path).read_row_group(group)
    ids = table.column("id").to_pylist()
    item_of: list[int] = []
    format_of: list[int] = []
    rendered: list[str] = []
    held = 0  # characters in rendered
    outputs: list[str] = []
    output_of: list[int] = []
    slot: dict[int, int] = {}  # id(output string) -> its index in outputs
    sink: ParquetSink | None = None
    per_item = np.zeros(len(ids), dtype=np.int64)  # rows written per item
    if kind != "sft":
        chosen = table.column("chosen")
        if _STATE["dpo_chosen_newlines"]:
            clean = NEWLINE_RULES[renderer.newlines]
            chosen = pa.array([clean(c) for c in chosen.to_pylist()], pa.string())

    def part() -> pa.Table:
        items = pa.array(item_of, pa.int32())
        if kind == "sft":
            tail = [pa.array(outputs, pa.string()).take(pa.array(output_of, pa.int32()))]
        else:
            tail = [chosen.take(items), table.column("rejected").take(items)]
        rendered_array = pa.array(rendered, pa.string())
        columns = [
            table.column("id").take(items),
            table.column("source").take(items),
            names.take(pa.array(format_of, pa.int32())),
            rendered_array,
            *tail,
        ]
        if kind == "sft":  # trl's names for the same two arrays (see SFT_SCHEMA)
            columns += [rendered_array, tail[0]]
        per_item[:] += np.bincount(np.asarray(item_of, dtype=np.int64), minlength=len(ids))
        return pa.Table.from_arrays(
            [c.combine_chunks() if isinstance(c, pa.ChunkedArray) else c for c in columns], schema=schema
        )

    def add(i: int, index: int, text: str) -> None:
        nonlocal held, sink
        item_of.append(i)
        format_of.append(index)
        rendered.append(text)
        held += len(text)
        if held >= SPILL_CHARS and spill is not None:
            if sink is None:
                sink = ParquetSink(Path(spill), schema, rows_per_group=1)
            sink.write(part())
            for values in (item_of, format_of, rendered, outputs, output_of):
                values.clear()
            slot.clear()
            held = 0

    try:
        if kind == "sft":
            turns_col, text_col = table.column("conversations").to_pylist(), table.column("text").to_pylist()
            for i, item_id in enumerate(ids):
                which = which_of(i, item_id)
                for index, text, output in renderer.sft_parts(item_id, turns_col[i], text_col[i], which):
                    k = slot.get(id(output))
                    if k is None:
                        k = slot[id(output)] = len(outputs)
                        outputs.append(output)
                    output_of.append(k)
                    add(i, index, text)
        else:
            prompts, systems = table.column("prompt").to_pylist(), table.column("system").to_pylist()
            for i, item_id in enumerate(ids):
                which = which_of(i, item_id)
                for index, text in renderer.dpo_parts(item_id, prompts[i], systems[i], which):
                    add(i, index, text)
        result: pa.Table | str = part()
        if sink is not None:
            sink.write(result)
            sink.close()
            result = spill  # type: ignore[assignment]
    except BaseException:
        if sink is not None:
            sink.abort()
        raise
    written: Counter = Counter()
    for origin, count in zip(table.column("origin").to_pylist(), per_item.tolist()):
        written[origin] += count
    return result, written


def _ranks(kind: str, path: Path, seed: int, assignment: FormatAssignment) -> np.ndarray:
    """Each row's place in the deal of formats; plain-text rows (written once, in no format)
    take no place (-1), so the conversations alone are spread evenly. ``chunks`` deals DPO
    pairs in their loaded order (the reference did not shuffle them), the rest in a seeded one."""
    columns = ["id", "text"] if kind == "sft" else ["id"]
    table = pq.read_table(path, columns=columns)
    ids = table.column("id").to_pylist()
    if kind != "sft":
        return np.arange(len(ids), dtype=np.int64) if assignment == "chunks" else copy_order(ids, seed)
    dealt = np.flatnonzero(table.column("text").is_null().to_numpy(zero_copy_only=False))
    ranks = np.full(len(ids), -1, dtype=np.int64)
    ranks[dealt] = copy_order([ids[i] for i in dealt], seed)
    return ranks


def render_file(kind: str, src: Path, dest: Path, num_proc: int, quiet: bool) -> Counter:
    renderer: Renderer = _STATE["renderer"]
    copies = _STATE["copies"]
    pf = pq.ParquetFile(src)
    assignment = _STATE["assignment"]
    ranks = (
        _ranks(kind, src, renderer.seed, assignment)
        if copies < len(renderer.formats) and assignment != "random"
        else None
    )
    dealt = 0 if ranks is None else int((ranks >= 0).sum())
    offsets = np.cumsum([0] + [pf.metadata.row_group(g).num_rows for g in range(pf.num_row_groups)])
    tasks = [
        (
            kind,
            str(src),
            g,
            None if ranks is None else ranks[offsets[g] : offsets[g + 1]],
            str(dest.with_name(f".{kind}-{g}.spill.parquet")),
            dealt,
        )
        for g in range(pf.num_row_groups)
    ]
    written: Counter = Counter()
    schema = SFT_SCHEMA if kind == "sft" else DPO_SCHEMA
    shown = progress(f"render {kind}", total=pf.metadata.num_rows, disable=quiet)
    parallel = num_proc > 1 and len(tasks) > 1
    with (
        shown,
        ParquetSink(dest, schema, rows_per_group=100_000) as sink,
        (
            worker_pool(min(num_proc, len(tasks)), initializer=_set_state, initargs=(dict(_STATE),))
            if parallel
            else nullcontext()
        ) as pool,
    ):
        results = (
            in_order(lambda t: pool.submit(_render_group, *t), tasks, 2 * num_proc)
            if pool is not None
            else ((t, _render_group(*t)) for t in tasks)
        )
        for task, (table, counts) in results:
            if isinstance(table, str):  # spilled: copied part by part, then removed
                spilled = pq.ParquetFile(table)
                for part in range(spilled.num_row_groups):
                    sink.write(spilled.read_row_group(part))
                Path(table).unlink()
            else:
                sink.write(table)
            written.update(counts)
            shown.update(pf.metadata.row_group(task[2]).num_rows)
    return written


def run_render(
    formats: Sequence[PromptFormat],
    seed: int,
    copies_per_item: int | None,
    in_dir: Path,
    out_dir: Path,
    num_proc: int = 1,
    quiet: bool = True,
    assignment: FormatAssignment = "spread",
    newlines: NewlineRule = "newline-runs",
    dpo_chosen_newlines: bool = False,
) -> dict[str, dict[str, int]]:
    """Render into ``out_dir/sft.parquet`` and ``out_dir/dpo.parquet``; rows written per origin.

    ``assignment`` says how an item's ``copies_per_item`` formats are chosen, ``newlines`` how
    answers are cleaned (see :mod:`bagel_core.rendering`), ``dpo_chosen_newlines`` whether DPO
    chosen responses are cleaned by the same rule (the reference later did; rejected stay raw).
    """
    copies = len(formats) if copies_per_item is None else copies_per_item
    if formats and not 1 <= copies <= len(formats):
        raise ValueError(
            f"--copies-per-item must be between 1 and the number of formats ({len(formats)}), got {copies}"
        )
    _set_state(
        dict(
            renderer=Renderer(formats, seed, newlines),
            copies=copies,
            assignment=assignment,
            dpo_chosen_newlines=dpo_chosen_newlines,
        )
    )
    os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")
    try:
        sft = render_file("sft", in_dir / "sft.parquet", out_dir / "sft.parquet", num_proc, quiet)
        dpo = render_file("dpo", in_dir / "dpo.parquet", out_dir / "dpo.parquet", num_proc, quiet)
    finally:
        _STATE.clear()
    return {origin: {"sft": sft[origin], "dpo": dpo[origin]} for origin in set(sft) | set(dpo)}


@dataclass
class RenderStage(Stage):
    """Stage 4: every item in its formats (``sft.parquet``, ``dpo.parquet``) and every
    conversation unrendered (``conversations.parquet``), into the stage's folder; the write
    stage moves them into the output (so a rerun whose output was removed or edited renders
    again). ``num_proc`` is not part of the key: the output is the same for any."""

    name: ClassVar[str] = "render"
    outputs: ClassVar[tuple[str, ...]] = ("sft.parquet", "dpo.parquet", CONVERSATIONS)
    source: Stage
    #: ``(class, options)`` of each format, in order.
    formats: list
    identities: Any
    tokens: SpecialTokens
    seed: int
    copies_per_item: int | None
    assignment: FormatAssignment
    newlines: NewlineRule
    num_proc: int = 1
    quiet: bool = True
    dpo_chosen_newlines: bool = False

    @property
    def inputs(self) -> list[Stage]:  # type: ignore[override]
        return [self.source]

    def key(self) -> Any:
        # The DPO clean-up joins the key only when on, so earlier render caches stay valid.
        extra = [{"dpo_chosen_newlines": True}] if self.dpo_chosen_newlines else []
        return [
            self.identities,
            self.seed,
            self.copies_per_item,
            self.assignment,
            self.newlines,
            asdict(self.tokens),
            *extra,
        ]

    def run(self, folder: Path, inputs: list[Path]) -> dict:
        instances = []
        for cls, options in self.formats:
            with contained(who(cls)):
                instances.append(cls(options, self.tokens))
        written = run_render(
            instances,
            self.seed,
            self.copies_per_item,
            inputs[0],
            folder,
            self.num_proc,
            self.quiet,
            self.assignment,
            self.newlines,
            self.dpo_chosen_newlines,
        )
        return {"written": written, "conversations": write_conversations(inputs[0], folder)}
