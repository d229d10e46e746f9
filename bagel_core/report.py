"""``bagel report OUT``: one self-contained ``report.html`` to look at an output folder.

What a user composing many sources wants to see before training: the mixture (items, rows and,
with a tokenizer, tokens per source), the length distributions per source and per prompt
format, what each filter removed and why (with the first example of each reason), every
benchmark match beside its benchmark item, and a few rendered rows per format with their
whitespace made visible. Charts are matplotlib PNGs embedded as ``data:`` URIs and the styles
are inline: the file needs no network and no other file.

The statistics are gathered in one streamed pass over each parquet file (lengths as numpy
arrays, a few example rows), so memory stays small next to the data. The main chart,
``mixture.png``, is also what the dataset card embeds (:func:`write_mixture_chart`).
"""

from __future__ import annotations

import base64
import html
import io
import re
from collections import Counter, defaultdict, deque
from collections.abc import Iterator
from collections.abc import Set as AbstractSet
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.parquet as pq

from .manifest import read_manifest
from .records import sft_text_columns
from .stages.tokens import sft_tokens
from .storage import atomic_path, iter_batches

REPORT = "report.html"
CHART = "mixture.png"
#: Rendered rows shown per prompt format (SFT) and per format (DPO).
EXAMPLES = 3
#: Characters of an example shown before it is cut.
EXAMPLE_CHARS = 1500
#: Sources drawn as their own length histogram; the rest are named below the chart.
MAX_PANELS = 36
PLAIN_TEXT = "plain-text"  # the format of plain-text rows (written once, in no format)
#: The training sequence length token lengths are held against, unless ``--max-length``.
MAX_LENGTH = 4096


@dataclass
class Stats:
    """What one pass over the output files finds, per ``source`` label and per format."""

    sft_items: Counter = field(default_factory=Counter)
    sft_rows: Counter = field(default_factory=Counter)
    dpo_pairs: Counter = field(default_factory=Counter)
    dpo_rows: Counter = field(default_factory=Counter)
    conversations: Counter = field(default_factory=Counter)
    #: What lengths are counted in: "characters", or "tokens" with a tokenizer.
    unit: str = "characters"
    #: Length of each item (a conversation's messages, or a plain text) per source label:
    #: counted once per item, however many rows and formats it was rendered into.
    item_lengths: dict[str, list[np.ndarray]] = field(default_factory=lambda: defaultdict(list))
    #: Length of each rendered row per format, as a trainer sees it: SFT prompt + completion, DPO
    #: prompt + the longer of chosen and rejected.
    sft_row_lengths: dict[str, list[np.ndarray]] = field(default_factory=lambda: defaultdict(list))
    dpo_row_lengths: dict[str, list[np.ndarray]] = field(default_factory=lambda: defaultdict(list))
    #: Assistant turns of each conversation, per source label.
    turns: dict[str, list[np.ndarray]] = field(default_factory=lambda: defaultdict(list))
    sft_examples: dict[str, list[dict]] = field(default_factory=lambda: defaultdict(list))
    dpo_examples: dict[str, list[dict]] = field(default_factory=lambda: defaultdict(list))
    #: Token counts per source and format in the manifest's form (with a tokenizer).
    tokens: dict[str, Any] | None = None


def _count(counter: Counter, column: pa.Array) -> None:
    for row in pc.value_counts(column).to_pylist():
        counter[row["values"]] += row["counts"]


def _keep_examples(examples: dict[str, list[dict]], batch: pa.RecordBatch, columns: list[str]) -> None:
    formats = batch.column("format").to_pylist()
    for i, fmt in enumerate(formats):
        if len(examples[fmt]) < EXAMPLES:
            examples[fmt].append({c: batch.column(c)[i].as_py() for c in columns})


def _split(target: dict[str, list[np.ndarray]], keys: pa.Array, values: np.ndarray, skip: str = "") -> None:
    """Append ``values`` to ``target[key]`` row by row, grouped by ``keys``."""
    keys_np = np.asarray(keys.to_pylist(), dtype=object)
    for key in np.unique(keys_np) if len(keys_np) else []:
        if key != skip:
            target[key].append(values[keys_np == key])


class _Lengths:
    """Lengths of text columns per row: characters, or tokens through a :class:`TokenCounter`
    (each distinct text once, in the worker pool)."""

    def __init__(self, counter: Any = None) -> None:
        self.counter = counter

    def rows(
        self, path: Path, columns: tuple[str, ...], extra: tuple[str, ...]
    ) -> Iterator[tuple[pa.RecordBatch, dict[str, np.ndarray]]]:
        if self.counter is not None:
            from .stages.tokens import row_lengths

            yield from row_lengths(path, columns, self.counter, extra)
            return
        for batch in iter_batches(path, columns=[*extra, *columns]):
            yield batch, {c: pc.utf8_length(batch.column(c)).to_numpy(zero_copy_only=False) for c in columns}

    def messages(self, path: Path) -> Iterator[tuple[pa.RecordBatch, np.ndarray, pa.Array, np.ndarray]]:
        """Per batch of a conversations file: the batch, each message's conversation (row),
        the messages, and each message's length (tokens counted in order, pipelined)."""
        pending: deque = deque()

        def batches() -> Iterator[list[str]]:
            for batch in iter_batches(path, columns=["source", "messages"]):
                messages = batch.column("messages")
                flat = pc.list_flatten(messages)
                encoded = pc.dictionary_encode(flat.field("content"))
                pending.append((batch, pc.list_parent_indices(messages).to_numpy(zero_copy_only=False), flat, encoded))
                yield encoded.dictionary.to_pylist()

        if self.counter is None:
            for _ in batches():
                batch, parents, flat, _encoded = pending.popleft()
                yield batch, parents, flat, pc.utf8_length(flat.field("content")).to_numpy(zero_copy_only=False)
            return
        for distinct in self.counter(batches()):
            batch, parents, flat, encoded = pending.popleft()
            yield batch, parents, flat, distinct[encoded.indices.to_numpy(zero_copy_only=False)]


def gather(out: Path, tokenizer: str | None = None, num_proc: int = 1) -> Stats:
    """One streamed pass over ``sft``, ``dpo`` and ``conversations`` of ``out``; lengths in
    tokens of ``tokenizer`` (counted in ``num_proc`` workers), else in characters."""
    if tokenizer is None:
        return _gather(out, _Lengths())
    from .stages.tokens import token_counter

    with token_counter(tokenizer, num_proc) as counter:
        stats = _gather(out, _Lengths(counter), tokenizer)
    return stats


def _gather(out: Path, lengths: _Lengths, tokenizer: str | None = None) -> Stats:
    from .stages.tokens import add_counts, finish_counts

    stats = Stats(unit="tokens" if tokenizer else "characters")
    tokens: dict[str, Any] = {"tokenizer": tokenizer, "sft": {}, "dpo": {}}
    sft = out / "sft.parquet"
    if sft.exists():
        # An earlier bagel's file names the texts input/output: read as prompt/completion.
        texts = sft_text_columns(pq.read_schema(sft).names)
        for batch, lengths_of in lengths.rows(sft, texts, ("id", "source", "format")):
            batch = batch.rename_columns(["id", "source", "format", "prompt", "completion"])
            n = {"prompt": lengths_of[texts[0]], "completion": lengths_of[texts[1]]}
            _count(stats.sft_rows, batch.column("source"))
            plain = pc.equal(batch.column("format"), PLAIN_TEXT)
            _count(stats.sft_items, batch.column("source").filter(plain))  # one row per plain item
            _split(
                stats.item_lengths,
                batch.column("source").filter(plain),
                n["completion"][plain.to_numpy(zero_copy_only=False)],
            )
            _split(stats.sft_row_lengths, batch.column("format"), n["prompt"] + n["completion"], skip=PLAIN_TEXT)
            add_counts(tokens["sft"], batch, n, ("prompt", "completion"))
            _keep_examples(stats.sft_examples, batch, ["id", "source", "format", "prompt", "completion"])
    conversations = out / "conversations.parquet"
    if conversations.exists():
        for batch, parents, flat, per_message in lengths.messages(conversations):
            _count(stats.conversations, batch.column("source"))
            item = np.bincount(parents, weights=per_message, minlength=len(batch)).astype(np.int64)
            assistant = pc.equal(flat.field("role"), "assistant").to_numpy(zero_copy_only=False).astype(np.int64)
            turns = np.bincount(parents, weights=assistant, minlength=len(batch)).astype(np.int64)
            _split(stats.item_lengths, batch.column("source"), item)
            _split(stats.turns, batch.column("source"), turns)
    stats.sft_items.update(stats.conversations)
    dpo = out / "dpo.parquet"
    if dpo.exists():
        table = pq.read_table(dpo, columns=["id", "source"])
        for row in table.group_by("source").aggregate([("id", "count_distinct")]).to_pylist():
            stats.dpo_pairs[row["source"]] = row["id_count_distinct"]
        for batch, n in lengths.rows(dpo, ("prompt", "chosen", "rejected"), ("source", "format")):
            _count(stats.dpo_rows, batch.column("source"))
            _split(stats.dpo_row_lengths, batch.column("format"), n["prompt"] + np.maximum(n["chosen"], n["rejected"]))
            add_counts(tokens["dpo"], batch, n, ("prompt", "chosen", "rejected"))
            _keep_examples(stats.dpo_examples, batch, ["source", "format", "prompt", "chosen", "rejected"])
    if tokenizer:
        stats.tokens = finish_counts(tokens)
    return stats


# --- charts -----------------------------------------------------------------------------------


def _png(fig, tight: bool = True) -> bytes:
    buffer = io.BytesIO()
    fig.savefig(buffer, format="png", dpi=96, bbox_inches="tight" if tight else None)
    import matplotlib.pyplot as plt

    plt.close(fig)
    return buffer.getvalue()


def _pyplot():
    import matplotlib

    matplotlib.use("Agg")  # no display; the same bytes everywhere
    import matplotlib.pyplot as plt

    return plt


def mixture_chart(stats: Stats) -> bytes | None:
    """Horizontal bars per source label: SFT items and DPO pairs (the card's chart)."""
    labels = sorted(
        set(stats.sft_items) | set(stats.dpo_pairs), key=lambda s: (stats.sft_items[s] + stats.dpo_pairs[s], s)
    )
    if not labels:
        return None
    plt = _pyplot()
    fig, ax = plt.subplots(figsize=(8, 1.2 + 0.28 * len(labels)))
    y = np.arange(len(labels))
    sft = np.array([stats.sft_items[s] for s in labels])
    dpo = np.array([stats.dpo_pairs[s] for s in labels])
    ax.barh(y, sft, color="#1f77b4", label="SFT items")
    ax.barh(y, dpo, left=sft, color="#ff7f0e", label="DPO pairs")
    ax.set_yticks(y, labels, fontsize=8)
    ax.set_xlabel("items")
    ax.set_title("Mixture by source")
    ax.legend(loc="lower right")
    return _png(fig)


def tokens_chart(tokens: dict[str, Any]) -> bytes | None:
    """Horizontal bars per source label: SFT and DPO tokens (all formats)."""
    totals: Counter = Counter()
    dpo: Counter = Counter()
    for label, formats in tokens.get("sft", {}).items():
        totals[label] += sum(sft_tokens(f) for f in formats.values())
    for label, formats in tokens.get("dpo", {}).items():
        dpo[label] += sum(f["prompt"] + f["chosen"] + f["rejected"] for f in formats.values())
    labels = sorted(set(totals) | set(dpo), key=lambda s: (totals[s] + dpo[s], s))
    if not labels:
        return None
    plt = _pyplot()
    fig, ax = plt.subplots(figsize=(8, 1.2 + 0.28 * len(labels)))
    y = np.arange(len(labels))
    a = np.array([totals[s] for s in labels])
    ax.barh(y, a, color="#1f77b4", label="SFT tokens (prompt + completion)")
    ax.barh(y, [dpo[s] for s in labels], left=a, color="#ff7f0e", label="DPO tokens (prompt + chosen + rejected)")
    ax.set_yticks(y, labels, fontsize=8)
    ax.set_xlabel(f"tokens ({local_paths_out(tokens['tokenizer'])})")
    ax.set_title("Tokens by source, all formats")
    ax.legend(loc="lower right")
    return _png(fig)


def _decades(arrays: list[np.ndarray], also: int | None = None) -> np.ndarray:
    """Bin edges over log10(length), 8 per decade, from 1 to the longest length (or ``also``)."""
    values = np.concatenate(arrays) if arrays else np.ones(1)
    top = np.ceil(np.log10(max(int(values.max()) if len(values) else 1, also or 0, 10)))
    return np.linspace(0, top, int(top * 8) + 1)


def _log_lengths(arrays: list[np.ndarray]) -> np.ndarray:
    return np.log10(np.maximum(np.concatenate(arrays), 1))


def _decade_ticks(ax, edges: np.ndarray) -> None:
    # Linear axes over log10 values with decade labels: matplotlib's log-scale tick locators
    # made a grid of 36 panels take a minute to lay out.
    ticks = np.arange(0, edges[-1] + 1)
    ax.set_xticks(ticks, [f"{10 ** int(t):,}" if t < 4 else f"1e{int(t)}" for t in ticks])


def _median(arrays: list[np.ndarray]) -> int:
    return int(np.median(np.concatenate(arrays))) if arrays else 0


def _limit_line(ax, max_length: int | None) -> None:
    if max_length:
        ax.axvline(np.log10(max_length), color="#d62728", linewidth=1, linestyle="--")


def lengths_by_source_chart(stats: Stats, max_length: int | None = None) -> tuple[bytes | None, list[str]]:
    """Small multiples: the length histogram of each source label's items; the labels beyond
    :data:`MAX_PANELS` (the fewest items) are returned to be named instead."""
    fig, rest = lengths_by_source_figure(stats, max_length)
    return (_png(fig) if fig is not None else None), rest


def lengths_by_source_figure(stats: Stats, max_length: int | None = None):
    """The figure of :func:`lengths_by_source_chart` (``None`` without items) and the labels
    not drawn."""
    labels = sorted(stats.item_lengths, key=lambda s: (-stats.sft_items[s], s))
    shown, rest = labels[:MAX_PANELS], labels[MAX_PANELS:]
    if not shown:
        return None, rest
    plt = _pyplot()
    columns = 4
    rows = (len(shown) + columns - 1) // columns
    # Constrained layout sizes each row to its two-line titles: no overlap, no empty band.
    fig, axes = plt.subplots(
        rows, columns, figsize=(12, 1.45 * rows + 0.5), squeeze=False, sharex=True, layout="constrained"
    )
    edges = _decades([a for s in shown for a in stats.item_lengths[s]], max_length)
    for ax, label in zip(axes.flat, shown):
        values = _log_lengths(stats.item_lengths[label])
        counts, _ = np.histogram(values, bins=edges)
        ax.stairs(counts, edges, fill=True, color="#1f77b4")
        _limit_line(ax, max_length)
        name = label if len(label) <= 34 else label[:33] + "…"
        ax.set_title(
            f"{name}\nn={len(values):,}, median {_median(stats.item_lengths[label]):,}", fontsize=7, loc="left"
        )
        ax.tick_params(labelsize=7)
    _decade_ticks(axes.flat[0], edges)
    for ax in list(axes.flat)[len(shown) :]:
        fig.delaxes(ax)
    limit = f"; dashed: max length {max_length:,}" if max_length else ""
    fig.suptitle(
        f"Length of each item in {stats.unit} (whole conversation or plain text), per source{limit}", fontsize=10
    )
    return fig, rest


def lengths_by_format_chart(stats: Stats, max_length: int | None = None) -> bytes | None:
    """Rendered row length per prompt format: SFT prompt + completion, DPO prompt + answer."""
    panels = [
        (n, d)
        for n, d in (
            ("SFT rows: prompt + completion", stats.sft_row_lengths),
            ("DPO rows: prompt + longer answer", stats.dpo_row_lengths),
        )
        if d
    ]
    if not panels:
        return None
    plt = _pyplot()
    fig, axes = plt.subplots(1, len(panels), figsize=(6 * len(panels), 3.2), squeeze=False, layout="constrained")
    for ax, (name, data) in zip(axes.flat, panels):
        edges = _decades([a for arrays in data.values() for a in arrays], max_length)
        for fmt in sorted(data):
            counts, _ = np.histogram(_log_lengths(data[fmt]), bins=edges)
            ax.stairs(counts, edges, linewidth=1.5, label=f"{fmt} (median {_median(data[fmt]):,})")
        _limit_line(ax, max_length)
        _decade_ticks(ax, edges)
        ax.set_xlabel(stats.unit)
        ax.set_title(f"{name}, per format", fontsize=10)
        ax.legend(fontsize=8)
    return _png(fig)


#: Percentiles of the length tables.
PERCENTILES = (50, 90, 99)


def length_rows(groups: dict[str, list[np.ndarray]], max_length: int | None, order: list[str]) -> list[list[Any]]:
    """Per group: count, percentiles, max and (with ``max_length``) how many exceed it."""
    rows = []
    for name in order:
        if not groups.get(name):
            continue
        values = np.concatenate(groups[name])
        row: list[Any] = [
            _e(name),
            len(values),
            *(int(np.percentile(values, p)) for p in PERCENTILES),
            int(values.max()),
        ]
        if max_length:
            over = int((values > max_length).sum())
            row.append(f"{over:,} ({100 * over / len(values):.1f}%)" if over else "0")
        rows.append(row)
    return rows


def turn_rows(stats: Stats) -> list[list[Any]]:
    """Per source label: conversations by number of assistant turns."""
    rows = []
    for label in sorted(stats.turns, key=lambda s: (-stats.conversations[s], s)):
        turns = np.concatenate(stats.turns[label])
        rows.append(
            [
                _e(label),
                len(turns),
                int((turns == 1).sum()),
                int(((turns >= 2) & (turns <= 3)).sum()),
                int((turns >= 4).sum()),
                f"{turns.mean():.2f}",
                int(turns.max()),
            ]
        )
    return rows


def write_mixture_chart(out: Path) -> Path | None:
    """``out/mixture.png`` for the dataset card, or ``None`` without matplotlib or items."""
    try:
        import matplotlib  # noqa: F401  (the "report" extra)
    except ImportError:
        return None
    image = mixture_chart(gather_mixture(out))
    if image is None:
        return None
    with atomic_path(out / CHART) as tmp:
        tmp.write_bytes(image)
    return out / CHART


def gather_mixture(out: Path) -> Stats:
    """Only the item counts per source label (what :func:`mixture_chart` draws)."""
    stats = Stats()
    if (out / "sft.parquet").exists():
        for batch in iter_batches(out / "sft.parquet", columns=["source", "format"]):
            _count(stats.sft_items, batch.column("source").filter(pc.equal(batch.column("format"), PLAIN_TEXT)))
    if (out / "conversations.parquet").exists():
        for batch in iter_batches(out / "conversations.parquet", columns=["source"]):
            _count(stats.sft_items, batch.column("source"))
    if (out / "dpo.parquet").exists():
        table = pq.read_table(out / "dpo.parquet", columns=["id", "source"])
        for row in table.group_by("source").aggregate([("id", "count_distinct")]).to_pylist():
            stats.dpo_pairs[row["source"]] = row["id_count_distinct"]
    return stats


# --- HTML -------------------------------------------------------------------------------------

_STYLE = """
body{font-family:system-ui,-apple-system,Segoe UI,Roboto,sans-serif;margin:2em auto;max-width:1200px;color:#222;padding:0 1em}
h1{margin-bottom:.2em}h2{border-bottom:1px solid #ddd;padding-bottom:.2em;margin-top:2em}
table{border-collapse:collapse;margin:.5em 0;font-size:13px}th,td{border:1px solid #ddd;padding:3px 6px;vertical-align:top;text-align:left}
th{background:#f4f4f4}td.n{text-align:right;font-variant-numeric:tabular-nums}
pre{white-space:pre-wrap;word-break:break-word;background:#fafafa;border:1px solid #eee;padding:6px;margin:0;font-size:12px;max-height:28em;overflow:auto}
.ws{color:#bbb}.warn{background:#fff4e5;border:1px solid #f0c36d;padding:.5em 1em}
.pair{display:grid;grid-template-columns:1fr 1fr;gap:8px}img{max-width:100%;height:auto}
nav a{margin-right:1em}.muted{color:#777}
details{margin:.5em 0}summary{cursor:pointer;padding:.3em 0}h3{margin-top:1.5em}
@media (max-width:700px){body{margin:1em auto;padding:0 .5em}table{font-size:12px;display:block;overflow-x:auto}.pair{grid-template-columns:1fr}}
"""


def _e(value: Any) -> str:
    return html.escape(str(value))


def visible(text: str | None, limit: int = EXAMPLE_CHARS) -> str:
    """``text`` as HTML with its whitespace shown: ``·`` space, ``→`` tab, ``↵`` line end."""
    if text is None:
        return '<span class="muted">(none)</span>'
    cut = len(text) - limit
    text = text[:limit] if cut > 0 else text
    marks = {" ": "·", "\t": "→", "\n": "↵\n", "\r": "␍"}
    parts = []
    for ch in text:
        mark = marks.get(ch)
        parts.append(f'<span class="ws">{mark[0]}</span>{mark[1:]}' if mark else html.escape(ch))
    return "".join(parts) + (f'<span class="muted"> … {cut} more characters</span>' if cut > 0 else "")


def _img(data: bytes | None, alt: str) -> str:
    if data is None:
        return f'<p class="muted">No data for: {_e(alt)}.</p>'
    return f'<img alt="{_e(alt)}" src="data:image/png;base64,{base64.b64encode(data).decode()}">'


def _table(head: list[str], rows: list[list[Any]], numeric: AbstractSet[int] = frozenset()) -> str:
    out = ["<table><tr>" + "".join(f"<th>{_e(h)}</th>" for h in head) + "</tr>"]
    for row in rows:
        out.append(
            "<tr>"
            + "".join(
                f'<td class="n">{c:,}</td>' if i in numeric and isinstance(c, int) else f"<td>{c}</td>"
                for i, c in enumerate(row)
            )
            + "</tr>"
        )
    return "".join(out) + "</table>"


_ABSOLUTE = re.compile(r"(?<![\w.~])/(?:[^/\s]+/)+([^/\s]+)")


def local_paths_out(text: str) -> str:
    """``text`` with each absolute path cut to its last three parts (``…/owner/name/file``):
    enough to find the file, nothing of the machine's layout (the report gets shared)."""
    return _ABSOLUTE.sub(lambda m: "…/" + "/".join(m.group(0).split("/")[-3:]), text)


#: Rows above which a table is folded away (``<details>``) behind a one-line summary.
FOLD_ROWS = 12


def _fold(summary: str, table: str, rows: int) -> str:
    """``table``, folded behind ``summary`` when it has more than :data:`FOLD_ROWS` rows."""
    return table if rows <= FOLD_ROWS else f"<details><summary>{summary}</summary>{table}</details>"


def _example_text(example: dict) -> str:
    parts = []
    if example.get("at"):
        parts.append(f"at {_e(local_paths_out(str(example['at'])))}")
    if example.get("detail"):
        parts.append(f"why: {_e(local_paths_out(str(example['detail'])))}")
    text = "; ".join(parts)
    if example.get("row"):
        text += f"<pre>{visible(example['row'], 400)}</pre>"
    return text or '<span class="muted">no example recorded</span>'


def build(out: Path, tokenizer: str | None = None, max_length: int = MAX_LENGTH, num_proc: int = 1) -> str:
    """The report's HTML for the output folder ``out``: lengths in tokens of ``tokenizer``
    (counted in ``num_proc`` workers) against ``max_length``, else in characters."""
    out = Path(out)
    manifest = read_manifest(out)
    stats = gather(out, tokenizer, num_proc)
    tokens = stats.tokens or manifest.tokens
    limit = max_length if stats.unit == "tokens" else None
    totals = manifest.totals
    config = manifest.config
    parts = [
        "<!doctype html><html lang='en'><head><meta charset='utf-8'>",
        "<meta name='viewport' content='width=device-width, initial-scale=1'>",
        f"<meta name='bagel-fingerprint' content='{_e(manifest.fingerprint)}'>",
        f"<title>bagel report: {_e(out.name)}</title><style>{_STYLE}</style></head><body>",
        f"<h1>bagel report</h1><p class='muted'>{_e(out.resolve().name)}: bagel-core {_e(manifest.bagel_version)}, seed {_e(config['seed'])}, "
        f"formats {_e(', '.join(manifest.formats))}; {totals.sft_rows:,} SFT rows, {totals.dpo_rows:,} DPO rows, "
        f"{totals.conversations_rows:,} conversations.</p>",
        "<nav><a href='#mixture'>Mixture</a><a href='#lengths'>Lengths</a><a href='#removed'>Rejected and filtered</a>"
        "<a href='#contamination'>Contamination</a><a href='#examples'>Examples</a></nav>",
    ]
    if manifest.warnings:
        parts.append(
            "<div class='warn'><b>Warnings of the run</b><ul>"
            + "".join(f"<li>{_e(w)}</li>" for w in manifest.warnings)
            + "</ul></div>"
        )

    # Mixture
    parts.append("<h2 id='mixture'>Mixture</h2>" + _img(mixture_chart(stats), "Mixture by source"))
    labels = sorted(
        set(stats.sft_rows) | set(stats.dpo_rows), key=lambda s: (-(stats.sft_items[s] + stats.dpo_pairs[s]), s)
    )
    head = ["source", "SFT items", "SFT rows", "conversations", "DPO pairs", "DPO rows"]
    token_totals: dict[str, list[int]] = {}
    if tokens:
        head += ["SFT tokens", "DPO tokens"]
        for label, formats in tokens.get("sft", {}).items():
            token_totals.setdefault(label, [0, 0])[0] += sum(sft_tokens(f) for f in formats.values())
        for label, formats in tokens.get("dpo", {}).items():
            token_totals.setdefault(label, [0, 0])[1] += sum(
                f["prompt"] + f["chosen"] + f["rejected"] for f in formats.values()
            )
    rows: list[list[Any]] = []  # cells of one table, then of the next
    for label in labels:
        row = [
            _e(label),
            stats.sft_items[label],
            stats.sft_rows[label],
            stats.conversations[label],
            stats.dpo_pairs[label],
            stats.dpo_rows[label],
        ]
        if tokens:
            row += token_totals.get(label, [0, 0])
        rows.append(row)
    parts.append(
        "<p>Per <code>source</code> label of the output files. SFT items: conversations plus plain-text items; rows: one per assistant turn and format.</p>"
    )
    parts.append(
        _fold(f"{len(rows):,} source labels: show the table", _table(head, rows, set(range(1, len(head)))), len(rows))
    )
    if tokens:
        parts.append(_img(tokens_chart(tokens), "Tokens by source"))
        parts.append(
            f"<p class='muted'>Tokens with <code>{_e(local_paths_out(tokens['tokenizer']))}</code>, no special tokens added.</p>"
        )
    else:
        parts.append(
            "<p class='muted'>No token counts: run <code>bagel run --tokenizer PATH</code> or <code>bagel report --tokenizer PATH</code>.</p>"
        )
    components = [[_e(n), _e(s.kind), *s.counts()] for n, s in manifest.sources.items()]
    parts.append(
        "<h3>Per component</h3>"
        + _fold(
            f"{len(components):,} components: show loaded, rejected, filtered, duplicates, contaminated and rows of each",
            _table(
                [
                    "component",
                    "kind",
                    "loaded",
                    "rejected",
                    "filtered",
                    "duplicates",
                    "contaminated",
                    "SFT rows",
                    "DPO rows",
                ],
                components,
                set(range(2, 9)),
            ),
            len(components),
        )
    )

    # Lengths
    by_source, rest = lengths_by_source_chart(stats, limit)
    unit = stats.unit
    against = (
        f", against a max length of {limit:,} tokens (<code>--max-length</code>)"
        if limit
        else "; <code>bagel report --tokenizer PATH</code> gives tokens, against a max length"
    )
    parts.append(
        f"<h2 id='lengths'>Lengths</h2><p>In {unit}{against}. Per source: each item once (a conversation's messages together, or a plain text), "
        "however many rows and formats it was rendered into. Per format: each rendered row as a trainer sees it.</p>"
    )
    parts.append(_img(by_source, "Item length per source"))
    if rest:
        parts.append(f"<p class='muted'>Not drawn (fewest items): {_e(', '.join(rest))}.</p>")
    head = ["", "n", *(f"p{p}" for p in PERCENTILES), "max"] + ([f"over {limit:,}"] if limit else [])
    numeric = set(range(1, 6))
    order = sorted(stats.item_lengths, key=lambda s: (-stats.sft_items[s], s))
    item_rows = length_rows(stats.item_lengths, limit, order)
    parts.append(
        f"<h3>Item length per source ({unit})</h3>"
        + _fold(
            f"{len(item_rows):,} sources: show n, p50, p90, p99 and max of each",
            _table(["source", *head[1:]], item_rows, numeric),
            len(item_rows),
        )
    )
    parts.append(_img(lengths_by_format_chart(stats, limit), "Row length per format"))
    for name, data in (
        ("SFT row length per format (prompt + completion)", stats.sft_row_lengths),
        ("DPO row length per format (prompt + longer answer)", stats.dpo_row_lengths),
    ):
        if data:
            parts.append(
                f"<h3>{name}, {unit}</h3>"
                + _table(["format", *head[1:]], length_rows(data, limit, sorted(data)), numeric)
            )
    if stats.turns:
        turns = turn_rows(stats)
        every = np.concatenate([a for arrays in stats.turns.values() for a in arrays])
        parts.append(
            f"<h3>Turns per conversation</h3><p>Assistant turns per conversation (each turn is one SFT row per format): {len(every):,} conversations, "
            f"{int((every == 1).sum()):,} with one turn, {int((every >= 2).sum()):,} with more, at most {int(every.max()):,}.</p>"
            + _fold(
                "per source: show the table",
                _table(
                    ["source", "conversations", "1 turn", "2-3 turns", "4+ turns", "mean", "max"],
                    turns,
                    {1, 2, 3, 4, 6},
                ),
                len(turns),
            )
        )

    # Rejected and filtered: the largest reasons first, folded away (it can be long).
    rows = []
    for name, s in manifest.sources.items():
        for kind, counts, example_of in (
            ("rejected", s.rejected, s.rejected_examples),
            ("filtered", s.filtered, s.filtered_examples),
        ):
            for reason, n in counts.items():
                rows.append([_e(name), kind, _e(reason), n, _example_text(example_of.get(reason, {}))])
    rows.sort(key=lambda r: (-r[3], r[0], r[1], r[2]))
    parts.append(
        "<h2 id='removed'>Rejected and filtered</h2><p>Rejected: malformed upstream rows. Filtered: rows a component dropped on purpose. The first row of each reason is the example.</p>"
    )
    if rows:
        rejected = sum(r[3] for r in rows if r[1] == "rejected")
        filtered = sum(r[3] for r in rows if r[1] == "filtered")
        top = ", ".join(f"{r[0]} {r[2]} ({r[3]:,})" for r in rows[:3])
        parts.append(
            f"<details><summary>{len(rows):,} reasons: {rejected:,} rows rejected, {filtered:,} filtered; most: {top}</summary>"
            + _table(["component", "", "reason", "rows", "example"], rows, {3})
            + "</details>"
        )
    else:
        parts.append("<p>Nothing was rejected or filtered.</p>")

    # Contamination
    contamination = manifest.contamination
    parts.append("<h2 id='contamination'>Contamination</h2>")
    matches = (
        pq.read_table(out / "contamination.parquet").to_pylist() if (out / "contamination.parquet").exists() else []
    )
    if not manifest.decontaminators:
        parts.append("<p>No decontamination was run.</p>")
    elif not matches:
        parts.append(
            f"<p>{_e(', '.join(manifest.decontaminators))} found no match in {_e(', '.join(manifest.benchmarks))}.</p>"
        )
    else:
        parts.append(
            f"<p>{len(matches):,} matches ({contamination.get('flagged', 0):,} items, {'reported only: dry run' if contamination.get('dry_run') else 'removed'}), highest score first.</p>"
        )
        for m in sorted(matches, key=lambda m: (-m["score"], m["benchmark"], m["id"])):
            parts.append(
                f"<h4>{_e(m['source'])} <code>{_e(m['id'])}</code> ↔ {_e(m['benchmark'])} item {_e(m['benchmark_item'])}: "
                f"{_e(m['decontaminator'])} score {m['score']:.3f}</h4><div class='pair'><pre>{visible(m['text'])}</pre><pre>{visible(m['benchmark_text'])}</pre></div>"
            )

    # Examples
    parts.append(
        "<h2 id='examples'>Examples</h2><p>The first rows of each format, whitespace shown: <span class='ws'>·</span> space, <span class='ws'>→</span> tab, <span class='ws'>↵</span> line end.</p>"
    )
    for fmt, examples in sorted(stats.sft_examples.items()):
        parts.append(f"<h3>SFT: {_e(fmt)}</h3>")
        for ex in examples:
            parts.append(
                f"<p class='muted'>{_e(ex['source'])} <code>{_e(ex['id'])}</code></p><div class='pair'><pre>{visible(ex['prompt'])}</pre><pre>{visible(ex['completion'])}</pre></div>"
            )
    for fmt, examples in sorted(stats.dpo_examples.items()):
        parts.append(f"<h3>DPO: {_e(fmt)}</h3>")
        for ex in examples:
            parts.append(
                f"<p class='muted'>{_e(ex['source'])}</p><pre>{visible(ex['prompt'])}</pre><div class='pair'><pre>{visible(ex['chosen'])}</pre><pre>{visible(ex['rejected'])}</pre></div>"
            )
    parts.append("</body></html>\n")
    return "".join(parts)


def report_fingerprint(path: Path) -> str | None:
    """The fingerprint of the output a ``report.html`` describes (``None`` if not a report)."""
    import re

    found = re.search(
        r"<meta name='bagel-fingerprint' content='([^']*)'>",
        Path(path).read_text(encoding="utf-8", errors="replace")[:4000],
    )
    return found.group(1) if found else None


def write_report(
    out: Path, tokenizer: str | None = None, dest: Path | None = None, max_length: int = MAX_LENGTH, num_proc: int = 1
) -> Path:
    """Write ``report.html`` (into ``out`` unless ``dest``); returns its path."""
    path = Path(dest) if dest is not None else Path(out) / REPORT
    text = build(out, tokenizer, max_length, num_proc)
    with atomic_path(path) as tmp:
        tmp.write_text(text, encoding="utf-8")
    return path
