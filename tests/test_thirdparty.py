"""The third-party example plugin of docs/plugins.md (tests/thirdparty/bagel_shakespeare), built
and pip-installed (not editable) into a temporary virtual environment layered on this one, then
used through ``bagel`` there: listed, run with its source, format, benchmark set and
decontaminator, and its own tests (bagel_core.testing) pass where it is installed."""

import json
import shutil
import site
import subprocess
import sys
import sysconfig
from pathlib import Path

import pyarrow.parquet as pq
import pytest
from engine_fixtures import REPO

EXAMPLE = REPO / "tests" / "thirdparty" / "bagel_shakespeare"


def _venv(tmp_path: Path) -> Path:
    """A venv whose packages are this environment's, with nothing installed in it: what it gets
    installed stays out of the environment running the tests. Its .pth adds this environment's
    site-packages as site dirs, so their own .pth files (editable installs) work too."""
    venv = tmp_path / "venv"
    subprocess.run(
        [sys.executable, "-m", "venv", "--without-pip", "--system-site-packages", str(venv)], check=True, timeout=120
    )
    python = venv / "bin" / "python"
    own = subprocess.run(
        [python, "-c", "import sysconfig; print(sysconfig.get_path('purelib'))"],
        capture_output=True,
        text=True,
        check=True,
    )
    parents = [*site.getsitepackages(), sysconfig.get_path("purelib")]
    (Path(own.stdout.strip()) / "parent_env.pth").write_text(
        f"import site; list(map(site.addsitedir, {list(dict.fromkeys(parents))!r}))\n"
    )
    return python


@pytest.fixture(scope="module")
def installed(tmp_path_factory):
    """The example, built from a copy (no build files in the repository) and installed."""
    tmp_path = tmp_path_factory.mktemp("thirdparty")
    package = tmp_path / "bagel_shakespeare"
    shutil.copytree(EXAMPLE, package)
    python = _venv(tmp_path)
    subprocess.run(
        [
            python,
            "-m",
            "pip",
            "--disable-pip-version-check",
            "-q",
            "install",
            "--no-deps",
            "--no-build-isolation",
            "--no-index",
            str(package),
        ],
        check=True,
        timeout=300,
    )
    return python, package


def test_install_is_not_editable_and_stays_in_its_venv(installed):
    python, package = installed
    where = subprocess.run(
        [python, "-c", "import bagel_shakespeare; print(bagel_shakespeare.__file__)"],
        capture_output=True,
        text=True,
        check=True,
        cwd=python.parent,
    )
    assert where.stdout.startswith(str(python.parent.parent / "lib")) and "site-packages" in where.stdout
    assert str(package) not in where.stdout
    outside = subprocess.run(
        [sys.executable, "-c", "import importlib.metadata as m; m.version('bagel-shakespeare')"],
        capture_output=True,
        text=True,
    )
    assert outside.returncode != 0  # not in the environment running the tests


def test_bagel_lists_and_runs_the_installed_plugin(installed, tmp_path):
    python, _ = installed
    bagel = [str(python), "-m", "bagel_core"]
    listed = subprocess.run(
        [*bagel, "list-plugins", "--verbose"], capture_output=True, text=True, timeout=120, cwd=tmp_path
    )
    lines = listed.stdout.splitlines()
    at = next(i for i, l in enumerate(lines) if l.startswith("shakespeare "))
    assert [l.split() for l in lines[at : at + 4]] == [
        ["shakespeare", "0.3.0", "sources", "shakespeare", "[tiny/shakespeare]", "ok"],
        ["formats", "playbill"],
        ["decontaminators", "quoted-line"],
        ["benchmarks", "shakespeare-quiz", "[tiny/shakespeare-quiz]"],
    ]
    out = tmp_path / "out"
    result = subprocess.run(
        [
            *bagel,
            "run",
            "--sample",
            "--sources",
            "shakespeare",
            "--dpo",
            "none",
            "--formats",
            "playbill,vicuna",
            "--decontaminate",
            "quoted-line",
            "--benchmarks",
            "shakespeare-quiz",
            "--out",
            str(out),
        ],
        capture_output=True,
        text=True,
        timeout=300,
        cwd=tmp_path,
    )
    assert result.returncode == 0, result.stderr
    manifest = json.loads((out / "manifest.json").read_text())
    source = manifest["sources"]["shakespeare"]
    assert source["distribution"] == "bagel-shakespeare" and source["loaded"] == 4 and source["contaminated"] == 1
    assert source["rows_written"]["sft"] == 6  # 3 clean items x 2 formats
    report = pq.read_table(out / "contamination.parquet").to_pylist()
    assert [(r["decontaminator"], r["benchmark"], r["benchmark_item"]) for r in report] == [
        ("quoted-line", "shakespeare-quiz", "q1")
    ]
    rows = {(r["format"], r["prompt"]) for r in pq.read_table(out / "sft.parquet").to_pylist()}
    # Cut on the token boundary: the space the format writes after "BARD." begins the completion.
    assert ("playbill", "STUDENT. Rewrite this line in modern English:\nWherefore art thou Romeo?\nBARD.") in rows
    # Its options are checked by the engine like a built-in's, before any data is read.
    bad = subprocess.run(
        [
            *bagel,
            "run",
            "--sample",
            "--sources",
            "shakespeare",
            "--dpo",
            "none",
            "--decontaminate",
            "quoted-line",
            "--benchmarks",
            "shakespeare-quiz",
            "-o",
            "decontaminator.quoted-line.min_chars=0",
            "--out",
            str(tmp_path / "bad"),
        ],
        capture_output=True,
        text=True,
        timeout=300,
        cwd=tmp_path,
    )
    assert (
        bad.returncode != 0
        and "quoted-line" in bad.stderr
        and "min_chars" in bad.stderr
        and "Traceback" not in bad.stderr
    )
    assert not (tmp_path / "bad" / "sft.parquet").exists()


def test_the_plugins_own_tests_pass_where_it_is_installed(installed, tmp_path):
    python, package = installed
    result = subprocess.run(
        [python, "-m", "pytest", "-q", "-p", "no:cacheprovider", str(package / "tests")],
        capture_output=True,
        text=True,
        timeout=300,
        cwd=tmp_path,
    )
    assert result.returncode == 0, result.stdout + result.stderr
    assert "3 passed" in result.stdout
