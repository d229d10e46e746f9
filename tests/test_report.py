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

import pytest

from bagel_core.config import RunConfig
from bagel_core.pipeline import run
from bagel_core.registry import load_plugins
from bagel_core.report import report_fingerprint, visible, write_report

pytest.importorskip("matplotlib")

#: Multi-turn, plain text, DPO, a filter with reasons (pippa, lmsys), rejections (gutenberg), and
#: truthy-dpo's TruthfulQA question for a contamination match.
SAMPLE = dict(sources="capybara,mmlu,gutenberg,pippa,lmsys_chat_1m", dpo="truthy-dpo,helpsteer", formats="all", decontaminate="ngram", sample=True)
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
    assert report_fingerprint(out / "report.html") == __import__("json").loads((out / "manifest.json").read_text())["fingerprint"]


def test_report_tables_match_the_outputs(out):
    import pyarrow.parquet as pq

    page = (out / "report.html").read_text()
    conversations = pq.read_table(out / "conversations.parquet").to_pylist()
    capybara = sum(r["source"] == "capybara" for r in conversations)
    assert f"<tr><td>capybara</td><td class=\"n\">{capybara:,}</td>" in page
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


def test_visible_marks_whitespace_and_escapes():
    assert visible("a b\tc\n<d>") == 'a<span class="ws">·</span>b<span class="ws">→</span>c<span class="ws">↵</span>\n&lt;d&gt;'
    assert visible("x" * 10, limit=4) == 'xxxx<span class="muted"> … 6 more characters</span>'


def test_report_counts_tokens_with_a_tokenizer(out, tiny_llama, tmp_path):
    path = write_report(out, str(tiny_llama), tmp_path / "r.html")
    page = path.read_text()
    assert f"Tokens with <code>{tiny_llama}</code>" in page and "<th>SFT tokens</th>" in page
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


def _open_in_chromium(page: Path, tmp_path: Path) -> tuple[list[str], "object"]:
    """Console messages Chromium logged while loading ``page``, and a screenshot of it."""
    from PIL import Image

    shot = tmp_path / f"{page.stem}.png"
    done = subprocess.run(
        [CHROMIUM, "--headless", "--no-sandbox", "--disable-gpu", "--enable-logging=stderr", "--v=0",
         f"--user-data-dir={tmp_path / 'profile'}", f"--screenshot={shot}", "--window-size=1280,3000", page.resolve().as_uri()],
        capture_output=True, text=True, timeout=120,
    )
    assert shot.exists(), done.stderr[-2000:]
    console = [line for line in done.stderr.splitlines() if ":CONSOLE" in line]
    return console, Image.open(io.BytesIO(shot.read_bytes())).convert("RGB")


def _pixels(image, colour) -> int:
    import numpy as np

    pixels = np.asarray(image, dtype=np.int16)
    return int((np.abs(pixels - np.array(colour, dtype=np.int16)) <= 6).all(axis=-1).sum())


@pytest.mark.skipif(CHROMIUM is None, reason="Chromium is not installed (apt-get install chromium); CI's setup installs no system packages")
def test_report_loads_in_headless_chromium_with_charts_and_no_console_messages(out, tmp_path):
    console, shot = _open_in_chromium(out / "report.html", tmp_path)
    assert console == []
    # The mixture chart is drawn: its blue (SFT) and orange (DPO) bars cover real area.
    assert _pixels(shot, BLUE) > 5000 and _pixels(shot, ORANGE) > 500


@pytest.mark.skipif(CHROMIUM is None, reason="Chromium is not installed")
def test_the_browser_check_sees_errors_and_broken_images(tmp_path):
    """The same check on a page with a script error and a broken image fails: it can fail."""
    page = tmp_path / "broken.html"
    page.write_text("<!doctype html><meta charset='utf-8'><img alt='x' src='data:image/png;base64,AAAA'><script>missing()</script>")
    console, shot = _open_in_chromium(page, tmp_path)
    assert any("Uncaught ReferenceError: missing is not defined" in line for line in console)
    assert _pixels(shot, BLUE) == 0
