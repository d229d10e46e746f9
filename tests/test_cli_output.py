"""What a new user sees from ``bagel run``: a few lines of bagel's own, nothing from the
libraries it drives; bad paths and names caught before any work, with a suggestion."""

from __future__ import annotations

import os
import re
import subprocess
import sys
from pathlib import Path

#: Every line ``bagel run`` may print with its output redirected (no terminal): its stage
#: lines, its warnings, its summary. Anything else is a library's line leaking through.
OWN = re.compile(
    r"^(warning: .+"
    r"|load: \d+ components?(, \d+ reused)?, done after [\d.]+s"
    r"|dedup: (done after [\d.]+s|reused)"
    r"|decontaminate: (done after [\d.]+s|reused|[\d,]+ items? matched)"
    r"|render: (done after [\d.]+s|reused)"
    r"|(load|decontaminate|render sft|render dpo): [\d,]+/[\d,]+ (components|items) after \d+s( \(.+\))?"  # a stage's periodic line
    r"|\d+ components? loaded [\d,]+ items; removed: .+"
    r"|wrote [\d,]+ rows to .+"
    r"|.+ is up to date: [\d,]+ rows .+)$"
)


def _bagel(args: list[str], cwd: Path) -> subprocess.CompletedProcess:
    # Output redirected to a pipe: not a terminal, as in a log file or CI.
    return subprocess.run(
        [sys.executable, "-m", "bagel_core", *args],
        cwd=cwd,
        capture_output=True,
        text=True,
        timeout=900,
        env={**os.environ, "BAGEL_DEBUG": ""},
    )


def test_a_first_sample_run_prints_a_few_lines_all_of_them_bagels(tmp_path):
    # Every source, DPO builder and format, as the README's first command; decontamination by
    # n-grams and code only, to keep the test short (the embedding model loads under
    # library_bars_off, tested with the embedding decontaminator).
    done = _bagel(
        [
            "run",
            "--sample",
            "--sources",
            "all",
            "--dpo",
            "all",
            "--formats",
            "all",
            "--decontaminate",
            "ngram,code",
            "--out",
            "bagel-out",
        ],
        tmp_path,
    )
    assert done.returncode == 0, done.stderr
    lines = (done.stderr + done.stdout).splitlines()
    assert len(lines) < 15, lines
    foreign = [line for line in lines if not OWN.match(line)]
    assert foreign == [], foreign
    assert "\r" not in done.stderr and "\x1b[" not in done.stderr  # no bar or cursor code in a log
    assert re.match(r"^wrote [\d,]+ rows to bagel-out \(", done.stdout.splitlines()[-1])
    # The table per source on request.
    again = _bagel(
        [
            "run",
            "--sample",
            "--sources",
            "all",
            "--dpo",
            "all",
            "--formats",
            "all",
            "--decontaminate",
            "ngram,code",
            "--out",
            "bagel-out",
            "--verbose",
        ],
        tmp_path,
    )
    assert again.returncode == 0 and "sft rows" in again.stdout and "TOTAL" in again.stdout
    assert "up to date" in again.stdout


def test_the_check_sees_a_foreign_line():
    assert not OWN.match("Generating train split: 100%|##########| 8/8 [00:00<00:00, 2000.00 examples/s]")
    assert not OWN.match("Some weights of the model checkpoint were not used when initializing")


def test_a_missing_data_root_is_one_line_before_any_work(tmp_path):
    done = _bagel(
        ["run", "--data-root", str(tmp_path / "nonexistent"), "--sources", "slimorca", "--dpo", "none", "--out", "out"],
        tmp_path,
    )
    assert done.returncode == 1
    assert done.stderr.splitlines() == [f"Error: --data-root {tmp_path / 'nonexistent'}: no such folder"]
    assert not (tmp_path / "out").exists()  # no empty OUT/.bagel-work left behind


def test_an_unknown_name_gets_a_suggestion(tmp_path):
    done = _bagel(["run", "--sample", "--sources", "slimorka", "--dpo", "none", "--out", "out"], tmp_path)
    assert done.returncode == 1 and len(done.stderr.splitlines()) == 1
    assert "unknown source 'slimorka' (did you mean 'slimorca'?); available: " in done.stderr
    assert not (tmp_path / "out").exists()
    far = _bagel(["run", "--sample", "--formats", "zzzzzz", "--out", "out"], tmp_path)
    assert "did you mean" not in far.stderr and "unknown format 'zzzzzz'; available: " in far.stderr


def test_run_help_has_examples(tmp_path):
    done = _bagel(["run", "--help"], tmp_path)
    assert done.returncode == 0
    examples = done.stdout.split("Examples:", 1)[1]
    assert "bagel run --sample --out bagel-out" in examples and "bagel report bagel-out" in examples


def test_progress_is_a_plain_line_now_and_then_without_a_terminal(monkeypatch):
    import io

    from bagel_core import console

    stream = io.StringIO()
    monkeypatch.setattr(console, "FIRST_LINE_AFTER", 0.0)
    monkeypatch.setattr(console, "LINE_EVERY", 3600.0)
    with console.progress("render sft", total=10, stream=stream) as shown:
        shown.note("alpaca")
        for _ in range(10):
            shown.update()
    # The first update after FIRST_LINE_AFTER prints a line; the next ones wait LINE_EVERY.
    assert re.fullmatch(r"render sft: 1/10 items after \d+s \(alpaca\)\n", stream.getvalue())
    silent = io.StringIO()
    with console.progress("render sft", total=10, disable=True, stream=silent) as shown:
        shown.update(10)
    assert silent.getvalue() == "" and shown.done == 10
