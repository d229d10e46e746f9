"""The regression guard (benchmarks/side_by_side.py): it runs two revisions' own code on the
same data and says which output columns differ. Against HEAD itself every column must agree,
and a revision's code (not the working tree's) must be what runs on the base side."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "benchmarks"))

import side_by_side  # noqa: E402


def test_compare_names_changed_new_and_dropped_columns():
    a = {"rows": 2, "columns": {"id": "1", "input": "2", "old": "3"}}
    b = {"rows": 2, "columns": {"id": "1", "input": "9", "prompt": "4"}}
    assert side_by_side.compare(a, b) == "changed: input; new columns: prompt; dropped columns: old"
    assert side_by_side.compare(a, dict(a)) == "same rows and values"
    assert side_by_side.compare(None, b) == "only in work"
    # sft.parquet's renamed texts are compared under their new names.
    old = {"rows": 2, "columns": {"id": "1", "input": "2", "output": "3"}}
    new = {"rows": 2, "columns": {"id": "1", "prompt": "5", "completion": "3"}}
    assert side_by_side.compare(old, new) == "changed: prompt; renamed: input -> prompt, output -> completion"


def test_digest_does_not_depend_on_row_groups(tmp_path: Path):
    import pyarrow as pa
    import pyarrow.parquet as pq

    table = pa.table({"id": [str(i) for i in range(10)], "n": list(range(10))})
    pq.write_table(table, tmp_path / "a.parquet", row_group_size=3)
    pq.write_table(table, tmp_path / "b.parquet", row_group_size=7)
    a, b = (side_by_side.table_digest(tmp_path / f"{x}.parquet") for x in "ab")
    assert side_by_side.compare(a, b) == "same rows and values"
    pq.write_table(table.slice(1), tmp_path / "c.parquet")
    assert side_by_side.table_digest(tmp_path / "c.parquet")["columns"] != a["columns"]


def test_exported_revision_is_the_commit_not_the_working_tree(tmp_path: Path):
    if not (ROOT / ".git").exists():
        pytest.skip("not a git checkout")
    tree = side_by_side.export_revision("HEAD", tmp_path)
    head = subprocess.run(
        ["git", "rev-parse", "HEAD"], cwd=ROOT, capture_output=True, text=True, check=True
    ).stdout.strip()
    assert (tree / ".exported").read_text().strip() == head
    tracked = subprocess.run(
        ["git", "show", "HEAD:bagel_core/pipeline.py"], cwd=ROOT, capture_output=True, text=True, check=True
    ).stdout
    assert (tree / "bagel_core" / "pipeline.py").read_text() == tracked
    # The side's environment puts that tree's code first.
    code = "import bagel_core, bagel_sources_builtin; print(bagel_core.__file__); print(bagel_sources_builtin.__file__)"
    env = {**__import__("os").environ, **side_by_side.side_env(tree)}
    # (from another folder: "-c" puts the current folder first on the path)
    printed = subprocess.run(
        [sys.executable, "-c", code], env=env, cwd=tmp_path, capture_output=True, text=True, check=True
    ).stdout.split()
    assert all(Path(p).is_relative_to(tree) for p in printed)


def test_same_revision_on_both_sides_writes_the_same_outputs(tmp_path: Path):
    if not (ROOT / ".git").exists():
        pytest.skip("not a git checkout")
    done = subprocess.run(
        [
            sys.executable,
            str(ROOT / "benchmarks" / "side_by_side.py"),
            "--base",
            "HEAD",
            "--items",
            "1500",
            "--rounds",
            "1",
            "--cache",
            str(tmp_path),
        ],
        capture_output=True,
        text=True,
    )
    assert done.returncode == 0, done.stderr[-2000:]
    rows = {
        line.split("|")[1].strip(): line
        for line in done.stdout.splitlines()
        if line.startswith("| ") and ".parquet" in line
    }
    assert "sft.parquet" in rows and "dpo.parquet" in rows
    # HEAD may differ from the working tree in a checkout with changes; in CI's clean clone
    # they are the same code, so every file must agree.
    clean = (
        subprocess.run(
            ["git", "status", "--porcelain", "--untracked-files=no"], cwd=ROOT, capture_output=True, text=True
        ).stdout.strip()
        == ""
    )
    if clean:
        assert all("same rows and values" in line for line in rows.values()), done.stdout
    assert "**whole run**" in done.stdout
