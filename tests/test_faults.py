"""Fault injection: kills, foreign files, malformed inputs and a broken environment.

The output folder must always be the previous complete output, the new complete output, or
marked incomplete, and never called up to date when it is not; bagel must delete only what it
made; bad input and a bad environment give one line on stderr, never a traceback.
"""

import hashlib
import os
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from bagel_core import publish
from bagel_core.stages.write import MANIFEST

from engine_fixtures import REPO, install_fake_dist

FAULTS = REPO / "tests" / "faults"
TOY_ARGS = ["--sources", "toy-high,toy-low", "--dpo", "toy-pairs", "--formats", "vicuna,chatml", "-q"]


@pytest.fixture
def bagel(tmp_path, toy_root):
    """``bagel(*args, **env)``: the CLI in a subprocess, with the toy plugin installed."""
    site = install_fake_dist(tmp_path / "site", "bagel-toy", "1.0", {"toy": "toy_plugin"})
    path = os.pathsep.join([str(site), str(REPO / "tests"), os.environ.get("PYTHONPATH", "")])

    def call(*args, faults=False, **env):
        full = dict(os.environ, PYTHONPATH=(str(FAULTS) + os.pathsep + path) if faults else path, **env)
        return subprocess.run(
            [sys.executable, "-m", "bagel_core", *args], capture_output=True, text=True, env=full, cwd=tmp_path, timeout=300
        )

    call.data_root = str(toy_root)
    return call


def snapshot(folder: Path) -> dict[str, str]:
    """Hash of every visible file at the top of ``folder`` (temporaries are hidden: ``.NAME.bagel-PID.tmp``)."""
    return {p.name: hashlib.sha256(p.read_bytes()).hexdigest() for p in folder.iterdir() if p.is_file() and not p.name.startswith(".")}


def assert_one_line_error(result, *fragments):
    assert result.returncode != 0
    assert "Traceback" not in result.stderr, result.stderr
    lines = [line for line in result.stderr.splitlines() if line.strip() and not line.startswith("warning: ")]
    assert len(lines) == 1 and lines[0].startswith("Error: "), result.stderr
    for fragment in fragments:
        assert fragment in lines[0], lines[0]


def test_killed_rerun_into_a_finished_folder_is_old_new_or_marked_never_stale(tmp_path, bagel):
    """The issue's case: a finished run, rerun with --copies-per-item 1 and killed at each of its
    file-system steps in the output folder (writes into the staging and work folders only ever
    leave the old output, so they are not counted); then the original command again."""
    out = tmp_path / "out"
    base = ["run", "--data-root", bagel.data_root, *TOY_ARGS]
    run_a = [*base, "--out", str(out)]
    run_b = [*run_a, "--copies-per-item", "1"]
    assert bagel(*run_a).returncode == 0
    old, old_fp = snapshot(out), publish.read_json(out / MANIFEST)["fingerprint"]
    finished = tmp_path / "finished"
    shutil.copytree(out, finished, symlinks=True)
    faults = dict(faults=True, BAGEL_FAULT_ROOT=str(out), BAGEL_FAULT_SKIP=".bagel-")
    count = tmp_path / "count"
    result = bagel(*run_b, **faults, BAGEL_FAULT_COUNT=str(count))
    assert result.returncode == 0, result.stderr
    new = snapshot(out)
    assert new != old and new.keys() == old.keys()
    steps = int(count.read_text())
    # The marker, the old manifest's removal, a rename per file, the new manifest, the marker's removal.
    assert steps == 1 + 1 + (len(new) - 1) + 1 + 1
    states = set()
    for step in range(1, steps + 1):
        shutil.rmtree(out)
        shutil.copytree(finished, out, symlinks=True)
        killed = bagel(*run_b, **faults, BAGEL_FAULT_KILL_AT=str(step))
        assert killed.returncode == -9, (step, killed.stderr)
        now = snapshot(out)
        marked = (out / publish.MARKER).exists() or not (out / MANIFEST).exists()
        if now == old:
            states.add("old")
        elif {k: v for k, v in now.items() if k != publish.MARKER} == new and not marked:
            states.add("new")
        else:
            assert marked, f"killed at step {step}: a mixed folder that is not marked incomplete: {sorted(now)} {[k for k in now if now[k] != old.get(k)]}"
            states.add("marked")
        # "Up to date" for the original command only when the folder is its complete output.
        assert (publish.current_manifest(out, old_fp) is not None) == (now == old), step
    # Killed before a step, never after the last: "new" is the uninterrupted run's state above.
    assert states == {"old", "marked"}

    # From a folder killed mid-publish, the original command republishes its own output.
    shutil.rmtree(out)
    shutil.copytree(finished, out, symlinks=True)
    assert bagel(*run_b, **faults, BAGEL_FAULT_KILL_AT=str(steps - 2)).returncode == -9
    assert (out / publish.MARKER).exists()
    again = bagel(*run_a)
    assert again.returncode == 0, again.stderr
    assert snapshot(out) == old and not (out / publish.STAGING).exists()


def test_edited_or_truncated_output_is_not_up_to_date(tmp_path, bagel):
    out = tmp_path / "out"
    args = ["run", "--data-root", bagel.data_root, *TOY_ARGS[:-1], "--out", str(out)]
    assert bagel(*args).returncode == 0
    good = snapshot(out)
    assert "up to date" in bagel(*args).stdout
    sft = out / "sft.parquet"
    sft.write_bytes(sft.read_bytes()[:-100])  # truncated: same name, wrong content
    rerun = bagel(*args)
    assert rerun.returncode == 0 and "up to date" not in rerun.stdout
    assert snapshot(out) == good
    (out / "README.md").write_text("edited")
    assert "up to date" not in bagel(*args).stdout and snapshot(out) == good


def test_cleanup_removes_only_bagels_own_temporaries(tmp_path, bagel):
    out = tmp_path / "out"
    dead = 4_000_000  # above any pid_max: no live process has it
    foreign = [out / "notes" / f".draft.{dead}.tmp", out / f".mine.{dead}.tmp", out / "notes" / f".x.bagel-{dead}.tmp"]
    ours = [out / f".sft.parquet.bagel-{dead}.tmp", out / ".bagel-work" / "load" / f".shard.parquet.bagel-{dead}.tmp"]
    for path in foreign + ours:
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text("x")
    stale_stage = out / publish.STAGING / str(dead) / "out"
    stale_stage.mkdir(parents=True)
    (stale_stage / "sft.parquet").write_text("half")
    assert bagel("run", "--data-root", bagel.data_root, *TOY_ARGS, "--out", str(out)).returncode == 0
    assert all(p.exists() for p in foreign)  # a user's files, even below OUT, even with our marker
    assert not any(p.exists() for p in ours) and not (out / publish.STAGING).exists()


@pytest.mark.parametrize("signum", ["SIGTERM", "SIGINT"])
def test_sigterm_and_ctrl_c_stop_with_a_message_and_the_rerun_resumes(tmp_path, bagel, signum):
    out = tmp_path / "out"
    args = ["run", "--data-root", bagel.data_root, *TOY_ARGS[:-1], "--out", str(out)]
    proc = subprocess.Popen(
        [sys.executable, "-m", "bagel_core", *args],
        stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, cwd=tmp_path,
        env=dict(os.environ, PYTHONPATH=_path(tmp_path), BAGEL_TEST_SLOW_ROW="5"),
    )
    _wait_for(lambda: list((out / ".bagel-work" / "load").glob("source-toy-high-*.parquet")), proc)
    proc.send_signal(getattr(signal, signum))
    _, stderr = proc.communicate(timeout=60)
    assert proc.returncode == 128 + getattr(signal, signum)
    assert "Traceback" not in stderr and f"stopped by {signum}" in stderr and "run the same command again to resume" in stderr
    assert not (out / MANIFEST).exists()
    resumed = bagel(*args)
    assert resumed.returncode == 0, resumed.stderr
    assert (out / MANIFEST).exists() and not list(out.rglob("*.bagel-*.tmp"))


def _path(tmp_path: Path) -> str:
    site = tmp_path / "site"
    return os.pathsep.join([str(site), str(REPO / "tests"), os.environ.get("PYTHONPATH", "")])


def _wait_for(condition, proc, timeout=120.0):
    deadline = time.monotonic() + timeout
    while not condition():
        assert proc.poll() is None, proc.communicate()
        assert time.monotonic() < deadline, "timed out"
        time.sleep(0.1)
