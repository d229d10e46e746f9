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
from collections import Counter, defaultdict
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Optional

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.parquet as pq

from . import privacy
from .storage import atomic_path, iter_batches, read_json

REPORT = "report.html"
CHART = "mixture.png"
#: Rendered rows shown per prompt format (SFT) and per format (DPO).
EXAMPLES = 3
#: Characters of an example shown before it is cut.
EXAMPLE_CHARS = 1500
#: Sources drawn as their own length histogram; the rest are named below the chart.
MAX_PANELS = 36
PLAIN_TEXT = "plain-text"  # the format of plain-text rows (written once, in no format)


@dataclass
class Stats:
    """What one pass over the output files finds, per ``source`` label and per format."""

    sft_items: Counter = field(default_factory=Counter)
    sft_rows: Counter = field(default_factory=Counter)
    dpo_pairs: Counter = field(default_factory=Counter)
    dpo_rows: Counter = field(default_factory=Counter)
    conversations: Counter = field(default_factory=Counter)
    #: Output (answer) lengths in characters per source label, input lengths per format.
    output_chars: dict[str, list[np.ndarray]] = field(default_factory=lambda: defaultdict(list))
    input_chars: dict[str, list[np.ndarray]] = field(default_factory=lambda: defaultdict(list))
    prompt_chars: dict[str, list[np.ndarray]] = field(default_factory=lambda: defaultdict(list))
    sft_examples: dict[str, list[dict]] = field(default_factory=lambda: defaultdict(list))
    dpo_examples: dict[str, list[dict]] = field(default_factory=lambda: defaultdict(list))


def _count(counter: Counter, column: pa.Array) -> None:
    for row in pc.value_counts(column).to_pylist():
        counter[row["values"]] += row["counts"]


def _keep_examples(examples: dict[str, list[dict]], batch: pa.RecordBatch, columns: list[str]) -> None:
    formats = batch.column("format").to_pylist()
    for i, fmt in enumerate(formats):
        if len(examples[fmt]) < EXAMPLES:
            examples[fmt].append({c: batch.column(c)[i].as_py() for c in columns})


def gather(out: Path) -> Stats:
    """One streamed pass over ``sft``, ``dpo`` and ``conversations`` of ``out``."""
    stats = Stats()
    sft = out / "sft.parquet"
    if sft.exists():
        for batch in iter_batches(sft, columns=["id", "source", "format", "input", "output"]):
            _count(stats.sft_rows, batch.column("source"))
            plain = pc.equal(batch.column("format"), PLAIN_TEXT)
            _count(stats.sft_items, batch.column("source").filter(plain))  # one row per plain item
            out_len = pc.utf8_length(batch.column("output")).to_numpy(zero_copy_only=False)
            in_len = pc.utf8_length(batch.column("input")).to_numpy(zero_copy_only=False)
            sources = np.asarray(batch.column("source").to_pylist(), dtype=object)
            formats = np.asarray(batch.column("format").to_pylist(), dtype=object)
            for label in np.unique(sources):
                stats.output_chars[label].append(out_len[sources == label])
            for fmt in np.unique(formats):
                if fmt != PLAIN_TEXT:
                    stats.input_chars[fmt].append(in_len[formats == fmt])
            _keep_examples(stats.sft_examples, batch, ["id", "source", "format", "input", "output"])
    conversations = out / "conversations.parquet"
    if conversations.exists():
        for batch in iter_batches(conversations, columns=["source"]):
            _count(stats.conversations, batch.column("source"))
    stats.sft_items.update(stats.conversations)
    dpo = out / "dpo.parquet"
    if dpo.exists():
        table = pq.read_table(dpo, columns=["id", "source"])
        for row in table.group_by("source").aggregate([("id", "count_distinct")]).to_pylist():
            stats.dpo_pairs[row["source"]] = row["id_count_distinct"]
        for batch in iter_batches(dpo, columns=["source", "format", "prompt", "chosen", "rejected"]):
            _count(stats.dpo_rows, batch.column("source"))
            lengths = pc.utf8_length(batch.column("prompt")).to_numpy(zero_copy_only=False)
            formats = np.asarray(batch.column("format").to_pylist(), dtype=object)
            for fmt in np.unique(formats):
                stats.prompt_chars[fmt].append(lengths[formats == fmt])
            _keep_examples(stats.dpo_examples, batch, ["source", "format", "prompt", "chosen", "rejected"])
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


def mixture_chart(stats: Stats) -> Optional[bytes]:
    """Horizontal bars per source label: SFT items and DPO pairs (the card's chart)."""
    labels = sorted(set(stats.sft_items) | set(stats.dpo_pairs), key=lambda s: (stats.sft_items[s] + stats.dpo_pairs[s], s))
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


def tokens_chart(tokens: dict[str, Any]) -> Optional[bytes]:
    """Horizontal bars per source label: SFT and DPO tokens (all formats)."""
    totals: Counter = Counter()
    dpo: Counter = Counter()
    for label, formats in tokens.get("sft", {}).items():
        totals[label] += sum(f["input"] + f["output"] for f in formats.values())
    for label, formats in tokens.get("dpo", {}).items():
        dpo[label] += sum(f["prompt"] + f["chosen"] + f["rejected"] for f in formats.values())
    labels = sorted(set(totals) | set(dpo), key=lambda s: (totals[s] + dpo[s], s))
    if not labels:
        return None
    plt = _pyplot()
    fig, ax = plt.subplots(figsize=(8, 1.2 + 0.28 * len(labels)))
    y = np.arange(len(labels))
    a = np.array([totals[s] for s in labels])
    ax.barh(y, a, color="#1f77b4", label="SFT tokens (input + output)")
    ax.barh(y, [dpo[s] for s in labels], left=a, color="#ff7f0e", label="DPO tokens (prompt + chosen + rejected)")
    ax.set_yticks(y, labels, fontsize=8)
    ax.set_xlabel(f"tokens ({tokens['tokenizer']})")
    ax.set_title("Tokens by source, all formats")
    ax.legend(loc="lower right")
    return _png(fig)


def _decades(arrays: list[np.ndarray]) -> np.ndarray:
    """Bin edges over log10(length), 8 per decade, from 1 to the longest length."""
    values = np.concatenate(arrays) if arrays else np.ones(1)
    top = np.ceil(np.log10(max(int(values.max()), 10)))
    return np.linspace(0, top, int(top * 8) + 1)


def _log_lengths(arrays: list[np.ndarray]) -> np.ndarray:
    return np.log10(np.maximum(np.concatenate(arrays), 1))


def _decade_ticks(ax, edges: np.ndarray) -> None:
    # Linear axes over log10 values with decade labels: matplotlib's log-scale tick locators
    # made a grid of 36 panels take a minute to lay out.
    ticks = np.arange(0, edges[-1] + 1)
    ax.set_xticks(ticks, [f"{10 ** int(t):,}" if t < 4 else f"1e{int(t)}" for t in ticks])


def lengths_by_source_chart(stats: Stats) -> tuple[Optional[bytes], list[str]]:
    """Small multiples: the answer (output) length histogram of each source label; the labels
    beyond :data:`MAX_PANELS` (the smallest) are returned to be named instead."""
    labels = sorted(stats.output_chars, key=lambda s: (-stats.sft_rows[s], s))
    shown, rest = labels[:MAX_PANELS], labels[MAX_PANELS:]
    if not shown:
        return None, rest
    plt = _pyplot()
    columns = 4
    rows = (len(shown) + columns - 1) // columns
    fig, axes = plt.subplots(rows, columns, figsize=(12, 1.9 * rows + 0.6), squeeze=False, sharex=True)
    edges = _decades([a for s in shown for a in stats.output_chars[s]])
    for ax, label in zip(axes.flat, shown):
        values = _log_lengths(stats.output_chars[label])
        counts, _ = np.histogram(values, bins=edges)
        ax.stairs(counts, edges, fill=True, color="#1f77b4")
        name = label if len(label) <= 30 else label[:29] + "…"
        ax.set_title(f"{name} (n={len(values)}, median {int(round(10 ** np.median(values)))})", fontsize=7)
        ax.tick_params(labelsize=7)
    _decade_ticks(axes.flat[0], edges)
    for ax in list(axes.flat)[len(shown):]:
        ax.axis("off")
    fig.suptitle("Answer (output) length in characters, per source: SFT rows of all formats", fontsize=10)
    fig.subplots_adjust(hspace=0.55, wspace=0.25, top=1 - 0.8 / (1.9 * rows + 0.6))
    return _png(fig, tight=False), rest


def lengths_by_format_chart(stats: Stats) -> Optional[bytes]:
    """Input length per prompt format (SFT) and rendered prompt length per format (DPO)."""
    panels = [(n, d) for n, d in (("SFT input", stats.input_chars), ("DPO prompt", stats.prompt_chars)) if d]
    if not panels:
        return None
    plt = _pyplot()
    fig, axes = plt.subplots(1, len(panels), figsize=(6 * len(panels), 3.2), squeeze=False)
    for ax, (name, data) in zip(axes.flat, panels):
        edges = _decades([a for arrays in data.values() for a in arrays])
        for fmt in sorted(data):
            values = _log_lengths(data[fmt])
            counts, _ = np.histogram(values, bins=edges)
            ax.stairs(counts, edges, linewidth=1.5, label=f"{fmt} (median {int(round(10 ** np.median(values)))})")
        _decade_ticks(ax, edges)
        ax.set_xlabel("characters")
        ax.set_title(f"{name} length per format", fontsize=10)
        ax.legend(fontsize=8)
    return _png(fig)


def write_mixture_chart(out: Path) -> Optional[Path]:
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
"""


def _e(value: Any) -> str:
    return html.escape(str(value))


def visible(text: Optional[str], limit: int = EXAMPLE_CHARS) -> str:
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


def _img(data: Optional[bytes], alt: str) -> str:
    if data is None:
        return f'<p class="muted">No data for: {_e(alt)}.</p>'
    return f'<img alt="{_e(alt)}" src="data:image/png;base64,{base64.b64encode(data).decode()}">'


def _table(head: list[str], rows: list[list[Any]], numeric: set[int] = frozenset()) -> str:
    out = ["<table><tr>" + "".join(f"<th>{_e(h)}</th>" for h in head) + "</tr>"]
    for row in rows:
        out.append("<tr>" + "".join(f'<td class="n">{c:,}</td>' if i in numeric and isinstance(c, int) else f"<td>{c}</td>" for i, c in enumerate(row)) + "</tr>")
    return "".join(out) + "</table>"


def _example_text(example: dict) -> str:
    parts = []
    if example.get("at"):
        parts.append(f"at {_e(example['at'])}")
    if example.get("detail"):
        parts.append(f"why: {_e(example['detail'])}")
    text = "; ".join(parts)
    if example.get("row"):
        text += f"<pre>{visible(example['row'], 400)}</pre>"
    return text or '<span class="muted">no example recorded</span>'


def build(out: Path, tokenizer: Optional[str] = None) -> str:
    """The report's HTML for the output folder ``out``."""
    out = Path(out)
    manifest = read_json(out / "manifest.json")
    tokens = manifest.get("tokens")
    if tokenizer and (not tokens or tokens.get("tokenizer") != tokenizer):
        from .stages.tokens import count_tokens

        tokens = count_tokens(out, tokenizer)
    stats = gather(out)
    totals = manifest["totals"]
    config = manifest["config"]
    parts = [
        "<!doctype html><html lang='en'><head><meta charset='utf-8'>",
        "<meta name='viewport' content='width=device-width, initial-scale=1'>",
        f"<meta name='bagel-fingerprint' content='{_e(manifest['fingerprint'])}'>",
        f"<title>bagel report: {_e(out.name)}</title><style>{_STYLE}</style></head><body>",
        f"<h1>bagel report</h1><p class='muted'>{_e(privacy.tilde(str(out.resolve())))}: bagel-core {_e(manifest['bagel_version'])}, seed {_e(config['seed'])}, "
        f"formats {_e(', '.join(manifest['formats']))}; {totals['sft_rows']:,} SFT rows, {totals['dpo_rows']:,} DPO rows, "
        f"{totals.get('conversations_rows', 0):,} conversations.</p>",
        "<nav><a href='#mixture'>Mixture</a><a href='#lengths'>Lengths</a><a href='#removed'>Rejected and filtered</a>"
        "<a href='#contamination'>Contamination</a><a href='#examples'>Examples</a></nav>",
    ]
    if manifest.get("warnings"):
        parts.append("<div class='warn'><b>Warnings of the run</b><ul>" + "".join(f"<li>{_e(w)}</li>" for w in manifest["warnings"]) + "</ul></div>")

    # Mixture
    parts.append("<h2 id='mixture'>Mixture</h2>" + _img(mixture_chart(stats), "Mixture by source"))
    labels = sorted(set(stats.sft_rows) | set(stats.dpo_rows), key=lambda s: (-(stats.sft_items[s] + stats.dpo_pairs[s]), s))
    head = ["source", "SFT items", "SFT rows", "conversations", "DPO pairs", "DPO rows"]
    token_totals: dict[str, list[int]] = {}
    if tokens:
        head += ["SFT tokens", "DPO tokens"]
        for label, formats in tokens.get("sft", {}).items():
            token_totals.setdefault(label, [0, 0])[0] += sum(f["input"] + f["output"] for f in formats.values())
        for label, formats in tokens.get("dpo", {}).items():
            token_totals.setdefault(label, [0, 0])[1] += sum(f["prompt"] + f["chosen"] + f["rejected"] for f in formats.values())
    rows = []
    for label in labels:
        row = [_e(label), stats.sft_items[label], stats.sft_rows[label], stats.conversations[label], stats.dpo_pairs[label], stats.dpo_rows[label]]
        if tokens:
            row += token_totals.get(label, [0, 0])
        rows.append(row)
    parts.append("<p>Per <code>source</code> label of the output files. SFT items: conversations plus plain-text items; rows: one per assistant turn and format.</p>")
    parts.append(_table(head, rows, set(range(1, len(head)))))
    if tokens:
        parts.append(_img(tokens_chart(tokens), "Tokens by source"))
        parts.append(f"<p class='muted'>Tokens with <code>{_e(tokens['tokenizer'])}</code>, no special tokens added.</p>")
    else:
        parts.append("<p class='muted'>No token counts: run <code>bagel run --tokenizer PATH</code> or <code>bagel report --tokenizer PATH</code>.</p>")
    components = [
        [_e(n), _e(s["kind"]), s["loaded"], sum(s["rejected"].values()), sum(s["filtered"].values()), s["duplicates"], s["contaminated"], s["rows_written"]["sft"], s["rows_written"]["dpo"]]
        for n, s in manifest["sources"].items()
    ]
    parts.append("<h3>Per component</h3>" + _table(["component", "kind", "loaded", "rejected", "filtered", "duplicates", "contaminated", "SFT rows", "DPO rows"], components, set(range(2, 9))))

    # Lengths
    by_source, rest = lengths_by_source_chart(stats)
    parts.append("<h2 id='lengths'>Lengths</h2>" + _img(by_source, "Answer length per source"))
    if rest:
        parts.append(f"<p class='muted'>Not drawn (fewest rows): {_e(', '.join(rest))}.</p>")
    parts.append(_img(lengths_by_format_chart(stats), "Input and prompt length per format"))

    # Rejected and filtered
    rows = []
    for name, s in manifest["sources"].items():
        for kind, counts, examples in (("rejected", s["rejected"], s.get("rejected_examples", {})), ("filtered", s["filtered"], s.get("filtered_examples", {}))):
            for reason, n in sorted(counts.items(), key=lambda kv: -kv[1]):
                rows.append([_e(name), kind, _e(reason), n, _example_text(examples.get(reason, {}))])
    parts.append("<h2 id='removed'>Rejected and filtered</h2><p>Rejected: malformed upstream rows. Filtered: rows a component dropped on purpose. The first row of each reason is the example.</p>")
    parts.append(_table(["component", "", "reason", "rows", "example"], rows, {3}) if rows else "<p>Nothing was rejected or filtered.</p>")

    # Contamination
    contamination = manifest["contamination"]
    parts.append("<h2 id='contamination'>Contamination</h2>")
    matches = pq.read_table(out / "contamination.parquet").to_pylist() if (out / "contamination.parquet").exists() else []
    if not manifest["decontaminators"]:
        parts.append("<p>No decontamination was run.</p>")
    elif not matches:
        parts.append(f"<p>{_e(', '.join(manifest['decontaminators']))} found no match in {_e(', '.join(manifest['benchmarks']))}.</p>")
    else:
        parts.append(f"<p>{len(matches):,} matches ({contamination.get('flagged', 0):,} items, {'reported only: dry run' if contamination.get('dry_run') else 'removed'}), highest score first.</p>")
        for m in sorted(matches, key=lambda m: (-m["score"], m["benchmark"], m["id"])):
            parts.append(
                f"<h4>{_e(m['source'])} <code>{_e(m['id'])}</code> ↔ {_e(m['benchmark'])} item {_e(m['benchmark_item'])}: "
                f"{_e(m['decontaminator'])} score {m['score']:.3f}</h4><div class='pair'><pre>{visible(m['text'])}</pre><pre>{visible(m['benchmark_text'])}</pre></div>"
            )

    # Examples
    parts.append("<h2 id='examples'>Examples</h2><p>The first rows of each format, whitespace shown: <span class='ws'>·</span> space, <span class='ws'>→</span> tab, <span class='ws'>↵</span> line end.</p>")
    for fmt, examples in sorted(stats.sft_examples.items()):
        parts.append(f"<h3>SFT: {_e(fmt)}</h3>")
        for ex in examples:
            parts.append(f"<p class='muted'>{_e(ex['source'])} <code>{_e(ex['id'])}</code></p><div class='pair'><pre>{visible(ex['input'])}</pre><pre>{visible(ex['output'])}</pre></div>")
    for fmt, examples in sorted(stats.dpo_examples.items()):
        parts.append(f"<h3>DPO: {_e(fmt)}</h3>")
        for ex in examples:
            parts.append(f"<p class='muted'>{_e(ex['source'])}</p><pre>{visible(ex['prompt'])}</pre><div class='pair'><pre>{visible(ex['chosen'])}</pre><pre>{visible(ex['rejected'])}</pre></div>")
    parts.append("</body></html>\n")
    return "".join(parts)


def report_fingerprint(path: Path) -> Optional[str]:
    """The fingerprint of the output a ``report.html`` describes (``None`` if not a report)."""
    import re

    found = re.search(r"<meta name='bagel-fingerprint' content='([^']*)'>", Path(path).read_text(encoding="utf-8", errors="replace")[:4000])
    return found.group(1) if found else None


def write_report(out: Path, tokenizer: Optional[str] = None, dest: Optional[Path] = None) -> Path:
    """Write ``report.html`` (into ``out`` unless ``dest``); returns its path."""
    path = Path(dest) if dest is not None else Path(out) / REPORT
    text = build(out, tokenizer)
    with atomic_path(path) as tmp:
        tmp.write_text(text, encoding="utf-8")
    return path
