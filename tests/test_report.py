"""``bagel report``: a self-contained report.html of a ``--sample`` run, checked as HTML and in
headless Chromium (no console messages, the charts drawn); the card's embedded chart."""

from __future__ import annotations

import base64
import io
import re
import shutil
import subprocess
import sys
from pathlib import Path

import numpy as np
import pyarrow.parquet as pq
import pytest

from bagel_core.config import RunConfig
from bagel_core.pipeline import run
from bagel_core.registry import load_plugins
from bagel_core.report import report_fingerprint, visible, write_report

#: Multi-turn, plain text, DPO, a filter with reasons (pippa, lmsys), rejections (gutenberg), and
#: truthy-dpo's TruthfulQA question for a contamination match.
SAMPLE = dict(
    sources="capybara,mmlu,gutenberg,pippa,lmsys_chat_1m",
    dpo="truthy-dpo,helpsteer",
    formats="all",
    decontaminate="ngram",
    sample=True,
)
BLUE, ORANGE = (0x1F, 0x77, 0xB4), (0xFF, 0x7F, 0x0E)  # matplotlib's first two colours, the bars


@pytest.fixture(scope="module")
def out(tmp_path_factory) -> Path:
    folder = tmp_path_factory.mktemp("report") / "out"
    run(RunConfig(out=folder, **SAMPLE), load_plugins())
    write_report(folder)
    return folder


def test_report_is_self_contained_and_has_every_section(out):
    page = (out / "report.html").read_text()
    # No network: every image is inline, no stylesheet, script or remote resource.
    assert not re.search(r"""(src|href)=['"](?!data:|#)""", page)
    assert "<script" not in page and "<link" not in page and "http://" not in page and "https://" not in page
    images = re.findall(r"src=\"data:image/png;base64,([^\"]+)\"", page)
    assert len(images) == 3  # mixture, lengths per source, lengths per format
    for data in images:
        assert base64.b64decode(data).startswith(b"\x89PNG\r\n\x1a\n")
    for anchor in ("mixture", "lengths", "removed", "contamination", "examples"):
        assert f"id='{anchor}'" in page
    assert (
        report_fingerprint(out / "report.html")
        == __import__("json").loads((out / "manifest.json").read_text())["fingerprint"]
    )


def test_report_tables_match_the_outputs(out):
    import pyarrow.parquet as pq

    page = (out / "report.html").read_text()
    conversations = pq.read_table(out / "conversations.parquet").to_pylist()
    capybara = sum(r["source"] == "capybara" for r in conversations)
    assert f'<tr><td>capybara</td><td class="n">{capybara:,}</td>' in page
    # Rejected and filtered, by reason, with the first example of each.
    assert "<td>gutenberg</td><td>rejected</td><td>book unavailable</td>" in page
    assert re.search(r"<td>pippa</td><td>filtered</td><td>[^<]+</td><td class=\"n\">\d+</td><td>at ", page)
    # Every contamination match, beside its benchmark item, with the score.
    (match,) = pq.read_table(out / "contamination.parquet").to_pylist()
    assert f"{match['benchmark']} item {match['benchmark_item']}: ngram score {match['score']:.3f}" in page
    assert visible(match["benchmark_text"]) in page and visible(match["text"]) in page
    # Rendered examples per format, whitespace visible.
    for fmt in ("alpaca", "chatml", "llama-2", "vicuna", "plain-text"):
        assert f"<h3>SFT: {fmt}</h3>" in page
    assert '<span class="ws">↵</span>\n' in page and '<span class="ws">·</span>' in page


def _section(page: str, title: str) -> str:
    return page.split(title, 1)[1].split("</table>", 1)[0]


def _cells(table_html: str) -> list[list[str]]:
    rows = re.findall(r"<tr>(.*?)</tr>", table_html, re.S)
    return [re.findall(r"<t[dh][^>]*>(.*?)</t[dh]>", r, re.S) for r in rows]


def test_lengths_are_counted_per_item_and_turns_per_conversation(out):
    page = (out / "report.html").read_text()
    conversations = pq.read_table(out / "conversations.parquet").to_pylist()
    sft = pq.read_table(out / "sft.parquet").to_pylist()
    # Per source: each item once (capybara is multi-turn: 4 formats x several turns of rows).
    capybara = [c for c in conversations if c["source"] == "capybara"]
    lengths = sorted(sum(len(m["content"]) for m in c["messages"]) for c in capybara)
    rows = {r[0]: r for r in _cells(_section(page, "Item length per source (characters)"))}
    n, p50, *_, top = rows["capybara"][1:]
    assert int(n) == len(capybara) < sum(r["source"] == "capybara" for r in sft)
    assert int(p50.replace(",", "")) == int(np.percentile(lengths, 50)) and int(top.replace(",", "")) == max(lengths)
    # Per format: each rendered row, prompt + completion.
    chatml = [len(r["prompt"]) + len(r["completion"]) for r in sft if r["format"] == "chatml"]
    rows = {r[0]: r for r in _cells(_section(page, "SFT row length per format (prompt + completion)"))}
    assert int(rows["chatml"][1]) == len(chatml) and int(rows["chatml"][5].replace(",", "")) == max(chatml)
    # Turns: assistant messages per conversation.
    turns = [sum(m["role"] == "assistant" for m in c["messages"]) for c in capybara]
    rows = {r[0]: r for r in _cells(page.split("<h3>Turns per conversation</h3>", 1)[1].split("</table>", 1)[0])}
    assert rows["capybara"][1:] == [
        str(len(turns)),
        str(turns.count(1)),
        str(sum(2 <= t <= 3 for t in turns)),
        str(sum(t >= 4 for t in turns)),
        f"{np.mean(turns):.2f}",
        str(max(turns)),
    ]
    assert max(turns) > 1


def test_removed_table_is_sorted_and_folded_and_no_local_path_is_shown(out):
    page = (out / "report.html").read_text()
    removed = page.split("<h2 id='removed'>", 1)[1].split("<h2 id='contamination'>", 1)[0]
    assert removed.count("<details><summary>") == 1 and "rows rejected" in removed
    counts = [int(r[3].replace(",", "")) for r in _cells(removed)[1:]]
    assert counts == sorted(counts, reverse=True) and len(counts) > 3
    # Nothing of this machine's layout: not the output's path, not the samples' or data's.
    assert str(out.resolve()) not in page and str(out.resolve().parent) not in page
    assert str(Path(__file__).resolve().parents[1]) not in page
    assert "at …/kingbri/PIPPA-shareGPT/pippa_sharegpt_trimmed.jsonl line " in removed  # the file, by its last parts


def test_token_lengths_per_item_and_format_against_a_max_length(out, tiny_llama, tmp_path):
    from transformers import AutoTokenizer

    page = write_report(out, str(tiny_llama), tmp_path / "t.html", max_length=64, num_proc=2).read_text()
    tok = AutoTokenizer.from_pretrained(tiny_llama)
    n = lambda text: len(tok(text, add_special_tokens=False)["input_ids"])
    assert "Item length per source (tokens)" in page and "against a max length of 64 tokens" in page
    capybara = [c for c in pq.read_table(out / "conversations.parquet").to_pylist() if c["source"] == "capybara"]
    lengths = [sum(n(m["content"]) for m in c["messages"]) for c in capybara]
    rows = {r[0]: r for r in _cells(_section(page, "Item length per source (tokens)"))}
    assert rows["source"][-1] == "over 64"
    assert int(rows["capybara"][5].replace(",", "")) == max(lengths)
    over = sum(x > 64 for x in lengths)
    assert rows["capybara"][6] == (f"{over:,} ({100 * over / len(lengths):.1f}%)" if over else "0")
    vicuna = [
        n(r["prompt"]) + n(r["completion"])
        for r in pq.read_table(out / "sft.parquet").to_pylist()
        if r["format"] == "vicuna"
    ]
    rows = {r[0]: r for r in _cells(_section(page, "SFT row length per format (prompt + completion), tokens"))}
    assert int(rows["vicuna"][2].replace(",", "")) == int(np.percentile(vicuna, 50))


def test_source_panels_do_not_overlap_and_leave_no_blank_band():
    """Long source names, many panels: no title runs into a neighbouring panel, and the image
    has no empty band (the old layout left one under the grid)."""
    from bagel_core.report import Stats, _png, lengths_by_source_figure

    stats = Stats()
    rng = np.random.default_rng(0)
    for i in range(14):
        label = f"airoboros-summarization-very-long-source-name-{i}"
        stats.item_lengths[label].append(rng.integers(10, 20_000, 50))
        stats.sft_items[label] = 50
    fig, rest = lengths_by_source_figure(stats, 4096)
    assert rest == []
    fig.canvas.draw()
    renderer = fig.canvas.get_renderer()
    axes = fig.get_axes()
    for ax in axes:
        title = ax.title.get_window_extent(renderer)
        for other in axes:
            if other is not ax:
                assert not title.overlaps(other.get_window_extent(renderer)), ax.get_title()
                assert not title.overlaps(other.title.get_window_extent(renderer)), ax.get_title()
    image = np.asarray(__import__("PIL.Image", fromlist=["Image"]).open(io.BytesIO(_png(fig))).convert("L"))
    blank = (image > 250).all(axis=1)
    longest = max((len(run) for run in "".join("1" if b else "0" for b in blank).split("0")), default=0)
    assert longest < 40, f"a blank band of {longest} pixel rows"


def test_visible_marks_whitespace_and_escapes():
    assert (
        visible("a b\tc\n<d>")
        == 'a<span class="ws">·</span>b<span class="ws">→</span>c<span class="ws">↵</span>\n&lt;d&gt;'
    )
    assert visible("x" * 10, limit=4) == 'xxxx<span class="muted"> … 6 more characters</span>'


def test_report_counts_tokens_with_a_tokenizer(out, tiny_llama, tmp_path):
    path = write_report(out, str(tiny_llama), tmp_path / "r.html")
    page = path.read_text()
    from bagel_core.report import local_paths_out

    # The tokenizer by its last path parts, not this machine's absolute path.
    assert f"Tokens with <code>{local_paths_out(str(tiny_llama))}</code>" in page and "<th>SFT tokens</th>" in page
    assert str(tiny_llama) not in page and local_paths_out(str(tiny_llama)).startswith("…/")
    assert len(re.findall(r"src=\"data:image/png", page)) == 4  # plus the tokens chart


def test_card_embeds_the_mixture_chart(out):
    from PIL import Image

    card = (out / "README.md").read_text()
    assert "![Items per source](mixture.png)" in card
    chart = Image.open(out / "mixture.png")
    assert chart.format == "PNG" and chart.width > 300
    assert "mixture.png" in __import__("json").loads((out / "manifest.json").read_text())["files"]


def test_report_command_refuses_a_folder_without_output(tmp_path):
    done = subprocess.run([sys.executable, "-m", "bagel_core", "report", str(tmp_path)], capture_output=True, text=True)
    assert done.returncode == 1 and "not a finished bagel output" in done.stderr


# --- in a real browser --------------------------------------------------------------------------

CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser")


def _open_in_chromium(page: Path, tmp_path: Path, width: int = 1280, height: int = 3000) -> tuple[list[str], object]:
    """Console messages Chromium logged while loading ``page``, and a screenshot of it."""
    from PIL import Image

    shot = tmp_path / f"{page.stem}-{width}.png"
    done = subprocess.run(
        [
            CHROMIUM,
            "--headless",
            "--no-sandbox",
            "--disable-gpu",
            "--enable-logging=stderr",
            "--v=0",
            "--hide-scrollbars",
            f"--user-data-dir={tmp_path / 'profile'}",
            f"--screenshot={shot}",
            f"--window-size={width},{height}",
            page.resolve().as_uri(),
        ],
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert shot.exists(), done.stderr[-2000:]
    console = [line for line in done.stderr.splitlines() if ":CONSOLE" in line]
    return console, Image.open(io.BytesIO(shot.read_bytes())).convert("RGB")


def _pixels(image, colour) -> int:
    import numpy as np

    pixels = np.asarray(image, dtype=np.int16)
    return int((np.abs(pixels - np.array(colour, dtype=np.int16)) <= 6).all(axis=-1).sum())


@pytest.mark.skipif(
    CHROMIUM is None,
    reason="Chromium is not installed (apt-get install chromium); CI's setup installs no system packages",
)
def test_report_loads_in_headless_chromium_with_charts_and_no_console_messages(out, tmp_path):
    console, shot = _open_in_chromium(out / "report.html", tmp_path)
    assert console == []
    # The mixture chart is drawn: its blue (SFT) and orange (DPO) bars cover real area.
    assert _pixels(shot, BLUE) > 5000 and _pixels(shot, ORANGE) > 500


@pytest.mark.skipif(CHROMIUM is None, reason="Chromium is not installed")
def test_the_browser_check_sees_errors_and_broken_images(tmp_path):
    """The same check on a page with a script error and a broken image fails: it can fail."""
    page = tmp_path / "broken.html"
    page.write_text(
        "<!doctype html><meta charset='utf-8'><img alt='x' src='data:image/png;base64,AAAA'><script>missing()</script>"
    )
    console, shot = _open_in_chromium(page, tmp_path)
    assert any("Uncaught ReferenceError: missing is not defined" in line for line in console)
    assert _pixels(shot, BLUE) == 0


#: Appended to a copy of the report (the report itself has no script): logs the page's layout.
MEASURE = """<script>window.addEventListener('load', () => {
  const d = document.documentElement, boxes = s => [...document.querySelectorAll(s)].map(e => e.getBoundingClientRect());
  console.log('bagel-layout ' + JSON.stringify({scroll: d.scrollWidth, width: window.innerWidth,
    images: boxes('img').map(b => [b.left, b.right, b.width]), headings: boxes('h2, h3').map(b => [b.top, b.bottom])}));
});</script>"""


def _layout(page: Path, tmp_path: Path, width: int) -> tuple[dict, object]:
    import json

    measured = tmp_path / f"measured-{width}.html"
    measured.write_text(page.read_text().replace("</body>", MEASURE + "</body>"))
    console, shot = _open_in_chromium(measured, tmp_path, width, 2400)
    (line,) = [c for c in console if "bagel-layout " in c]
    return json.loads(line.split("bagel-layout ", 1)[1].rsplit('", source:', 1)[0].replace('\\"', '"')), shot


@pytest.mark.skipif(CHROMIUM is None, reason="Chromium is not installed")
@pytest.mark.parametrize("width", [1280, 500])  # headless Chromium windows are at least 500 wide
def test_report_layout_at_desktop_and_narrow_widths(out, tmp_path, width):
    """Nothing wider than the window (tables scroll inside themselves, charts shrink), every
    chart drawn inside it, headings apart; the charts' colours on screen."""
    layout, shot = _layout(out / "report.html", tmp_path, width)
    assert layout["width"] == width and layout["scroll"] <= width
    assert len(layout["images"]) == 3 and all(
        w > 0.5 * min(width, 1200) - 40 and right <= width for _, right, w in layout["images"]
    )
    headings = sorted(layout["headings"])
    assert all(a[1] <= b[0] for a, b in zip(headings, headings[1:]))  # no heading over another
    assert _pixels(shot, BLUE) > (5000 if width > 1000 else 1000) and _pixels(shot, ORANGE) > 100


@pytest.mark.skipif(CHROMIUM is None, reason="Chromium is not installed")
def test_the_layout_check_sees_a_page_too_wide(tmp_path):
    page = tmp_path / "wide.html"
    page.write_text(
        "<!doctype html><meta charset='utf-8'><body><table><tr><td style='min-width:900px'>x</td></tr></table></body>"
    )
    layout, _ = _layout(page, tmp_path, 500)
    assert layout["scroll"] > 500
