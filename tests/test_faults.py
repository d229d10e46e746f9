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
from dataclasses import dataclass
from pathlib import Path

import pytest
from engine_fixtures import REPO, install_fake_dist, write_jsonl

from bagel_core import MalformedFile, Source, as_conversation, publish
from bagel_core.publish import MANIFEST
from bagel_core.readers import text
from bagel_core.stages.load import LoadError, LoadSettings, LoadTask, run_load
from bagel_core.manifest import MANIFEST
from bagel_core.testing import load_sample

FAULTS = REPO / "tests" / "faults"
TOY_ARGS = [
    "--sources",
    "toy-high,toy-low",
    "--dpo",
    "toy-pairs",
    "--formats",
    "vicuna,chatml",
    "--decontaminate",
    "none",
    "-q",
]


@pytest.fixture
def bagel(tmp_path, toy_root):
    """``bagel(*args, **env)``: the CLI in a subprocess, with the toy plugin installed."""
    site = install_fake_dist(tmp_path / "site", "bagel-toy", "1.0", {"toy": "toy_plugin"})
    path = os.pathsep.join([str(site), str(REPO / "tests"), os.environ.get("PYTHONPATH", "")])

    def call(*args, faults=False, **env):
        full = dict(os.environ, PYTHONPATH=(str(FAULTS) + os.pathsep + path) if faults else path, **env)
        return subprocess.run(
            [sys.executable, "-m", "bagel_core", *args],
            capture_output=True,
            text=True,
            env=full,
            cwd=tmp_path,
            timeout=300,
        )

    call.data_root = str(toy_root)
    return call


def snapshot(folder: Path) -> dict[str, str]:
    """Hash of every visible file at the top of ``folder`` (temporaries are hidden: ``.NAME.bagel-PID.tmp``)."""
    return {
        p.name: hashlib.sha256(p.read_bytes()).hexdigest()
        for p in folder.iterdir()
        if p.is_file() and not p.name.startswith(".")
    }


def assert_one_line_error(result, *fragments):
    assert result.returncode != 0
    assert "Traceback" not in result.stderr, result.stderr
    lines = [line for line in result.stderr.splitlines() if line.strip() and not line.startswith("warning: ")]
    assert len(lines) == 1 and lines[0].startswith("Error: "), result.stderr
    for fragment in fragments:
        assert fragment in lines[0], lines[0]


# Over 20 s (30 CPU seconds): a bagel process per publishing step, each killed at its step.
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
            assert marked, (
                f"killed at step {step}: a mixed folder that is not marked incomplete: {sorted(now)} {[k for k in now if now[k] != old.get(k)]}"
            )
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
    # The user's files make OUT not bagel's alone: --force (tests/test_faults_output.py) to publish beside them.
    assert bagel("run", "--data-root", bagel.data_root, *TOY_ARGS, "--out", str(out), "--force").returncode == 0
    assert all(p.exists() for p in foreign)  # a user's files, even below OUT, even with our marker
    assert not any(p.exists() for p in ours) and not (out / publish.STAGING).exists()


@pytest.mark.parametrize("signum", ["SIGTERM", "SIGINT"])
def test_sigterm_and_ctrl_c_stop_with_a_message_and_the_rerun_resumes(tmp_path, bagel, signum):
    out = tmp_path / "out"
    args = ["run", "--data-root", bagel.data_root, *TOY_ARGS[:-1], "--out", str(out)]
    proc = subprocess.Popen(
        [sys.executable, "-m", "bagel_core", *args],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        cwd=tmp_path,
        env=dict(os.environ, PYTHONPATH=_path(tmp_path), BAGEL_TEST_SLOW_ROW="5"),
    )
    _wait_for(lambda: list((out / ".bagel-work" / "load").glob("source-toy-high-*/records.parquet")), proc)
    proc.send_signal(getattr(signal, signum))
    _, stderr = proc.communicate(timeout=60)
    assert proc.returncode == 128 + getattr(signal, signum)
    assert (
        "Traceback" not in stderr
        and f"stopped by {signum}" in stderr
        and "run the same command again to resume" in stderr
    )
    assert not (out / MANIFEST).exists()
    resumed = bagel(*args)
    assert resumed.returncode == 0, resumed.stderr
    assert (out / MANIFEST).exists() and not list(out.rglob("*.bagel-*.tmp"))


def _path(tmp_path: Path) -> str:
    site = tmp_path / "site"
    return os.pathsep.join([str(site), str(REPO / "tests"), os.environ.get("PYTHONPATH", "")])


def _wait_for(condition, proc, timeout=120.0):
    deadline = time.monotonic() + timeout
    while not (result := condition()):
        assert proc.poll() is None, proc.communicate()
        assert time.monotonic() < deadline, "timed out"
        time.sleep(0.1)
    return result


# --- malformed files ----------------------------------------------------------------------


class ReadsDataset(Source):
    """Reads ``me/ds`` through ``ctx.load_dataset`` (``datasets``), as most sources do."""

    name = "reads-dataset"
    description = "q/a rows of me/ds"
    dataset_ids = ("me/ds",)

    @dataclass
    class Options:
        file: str = "rows.jsonl"

    def rows(self, ctx):
        return ctx.load_dataset("me/ds", data_files={"train": self.options.file})

    def convert(self, row, ctx):
        return as_conversation("reads-dataset", text(row, "q"), text(row, "a"))


def _load(tmp_path, name, content, cls=ReadsDataset, **options):
    folder = tmp_path / "data" / "me" / "ds"
    folder.mkdir(parents=True, exist_ok=True)
    (folder / name).write_bytes(content)
    task = LoadTask(
        cls,
        cls.Options(file=name, **options),
        LoadSettings(42, tmp_path / "data"),
        tmp_path / "work" / f"{name}.parquet",
    )
    return run_load(task), task


GOOD = b'{"q": "What is 2 + 2?", "a": "4"}\n{"q": "Name a colour.", "a": "Blue."}\n'


def test_bad_lines_of_a_dataset_file_are_counted_with_file_and_line(tmp_path):
    content = GOOD + b'{"q": "caf\xe9", "a": "x"}\n{"q": oops}\n{"q": "Say hi.", "a": "Hi."}\n{"q": "cut'
    counts, task = _load(tmp_path, "rows.jsonl", content)
    path = tmp_path / "data" / "me" / "ds" / "rows.jsonl"
    assert counts.loaded == 3
    assert counts.rejected == {"invalid UTF-8": 1, "invalid JSON": 1, "truncated line": 1}
    assert {r: e["at"] for r, e in counts.examples.items()} == {
        "invalid UTF-8": f"{path} line 3",
        "invalid JSON": f"{path} line 4",
        "truncated line": f"{path} line 6",
    }
    # Read again (the cleaned copy is cached): the bad lines are counted again, not lost.
    task.shard.unlink()
    assert run_load(task).rejected == counts.rejected


@pytest.mark.parametrize(
    "name, content, problem",
    [
        ("rows.jsonl", b"", "the file is empty"),
        ("rows.jsonl", b"\n\n", "the file is empty"),
        ("rows.parquet", b"PAR1 not really parquet PAR1", "not a readable parquet file"),
        ("rows.json", b'[{"q": "a", "a": "b"}, {"q": ', "not a valid JSON array"),
    ],
)
def test_empty_or_corrupt_file_is_present_but_malformed(tmp_path, name, content, problem):
    with pytest.raises(LoadError) as info:
        _load(tmp_path, name, content)
    message = str(info.value)
    assert f"{tmp_path / 'data' / 'me' / 'ds' / name}: present but malformed: {problem}" in message
    assert "not available" not in message and message.startswith("source 'reads-dataset' (")


def test_required_column_missing_from_every_row_is_an_error(tmp_path):
    with pytest.raises(
        LoadError, match=r"every row was rejected \(2 rows; 2 for \"missing field 'a'\"; first at row 0 of me/ds\)"
    ):
        _load(tmp_path, "rows.jsonl", b'{"q": "x"}\n{"q": "y"}\n')


@pytest.mark.parametrize(
    "name, content, expected",
    [
        ("a.jsonl", b'{"text": "one"}\n\xff\xfe\n{"text": "two"}\n{"te', {"invalid UTF-8": 1, "truncated line": 1}),
        ("a.json", b'{"text": "one"}\n{"text": 2}\n', {"text is not a string": 1}),
    ],
)
def test_local_source_counts_bad_lines(tmp_path, name, content, expected):
    from bagel_sources_builtin.local_files import LocalFiles

    path = tmp_path / name
    path.write_bytes(content)
    records, counts = load_sample(LocalFiles, {"paths": [str(path)]}, data_root=tmp_path)
    assert len(records) >= 1 and counts.rejected == expected


@pytest.mark.parametrize(
    "name, content, problem",
    [
        ("a.jsonl", b"", "the file is empty"),
        ("a.parquet", b"garbage", "not a readable parquet file"),
        ("a.json", b"[1, 2", "not a valid JSON array"),
    ],
)
def test_local_source_malformed_files_name_the_file(tmp_path, name, content, problem):
    from bagel_sources_builtin.local_files import LocalFiles

    path = tmp_path / name
    path.write_bytes(content)
    with pytest.raises(MalformedFile, match=f"{path}: present but malformed: {problem}"):
        load_sample(LocalFiles, {"paths": [str(path)]}, data_root=tmp_path)


def test_malformed_file_through_the_cli_is_one_line(tmp_path, bagel):
    data = tmp_path / "mine.jsonl"
    data.write_bytes(b"")
    result = bagel(
        "run",
        "--sources",
        "local",
        "--dpo",
        "none",
        "--formats",
        "vicuna",
        "--out",
        str(tmp_path / "o"),
        "-q",
        "--recipe",
        str(_recipe(tmp_path, f'[source.local]\npaths = ["{data}"]\n')),
    )
    assert_one_line_error(result, "source 'local'", f"{data}: present but malformed: the file is empty")


def _recipe(tmp_path, body):
    path = tmp_path / "recipe.toml"
    path.write_text(body)
    return path


# --- bugs are not data ----------------------------------------------------------------------


def test_a_plugin_bug_fails_the_run_naming_plugin_component_row_and_exception(tmp_path, bagel):
    args = ["run", "--data-root", bagel.data_root, *TOY_ARGS, "--out", str(tmp_path / "o")]
    result = bagel(*args, BAGEL_TEST_BUG_AT="2")
    assert_one_line_error(result, "source 'toy-low' (toy_plugin) failed on ", "AttributeError: ", "'n': 2")
    debug = bagel("--debug", *args, BAGEL_TEST_BUG_AT="2")
    assert (
        debug.returncode == 1
        and "Traceback (most recent call last)" in debug.stderr
        and "toy_plugin.py" in debug.stderr
    )
    assert "Traceback" in bagel(*args, BAGEL_TEST_BUG_AT="2", BAGEL_DEBUG="1").stderr


# --- the environment ----------------------------------------------------------------------


def test_tokenizer_that_does_not_exist_is_one_line(tmp_path, bagel):
    result = bagel(
        "run", "--data-root", bagel.data_root, *TOY_ARGS, "--out", str(tmp_path / "o"), "--tokenizer", "/nonexistent"
    )
    assert_one_line_error(result, "--tokenizer '/nonexistent': cannot load a tokenizer")


def _unwritable(tmp_path) -> Path:
    """A folder this process can not create or write: read-only by mode for a normal user, a
    folder in /sys (not writable even by root in a container) otherwise."""
    folder = tmp_path / "read-only"
    folder.mkdir()
    folder.chmod(0o555)
    if not os.access(folder, os.W_OK):
        return folder / "out"
    candidate = Path("/sys/bagel-out")
    try:
        candidate.mkdir()
    except OSError:
        return candidate
    candidate.rmdir()
    pytest.skip("no unwritable folder on this machine")


def test_unwritable_out_is_one_line_before_any_source(tmp_path, bagel):
    out = _unwritable(tmp_path)
    result = bagel("run", "--data-root", bagel.data_root, *TOY_ARGS, "--out", str(out))
    assert_one_line_error(result, f"cannot write to the output folder (--out) {out}")
    assert "toy" not in result.stderr  # not blamed on the first source


@pytest.mark.parametrize("reader", ["own files", "datasets"])
def test_a_full_file_system_is_one_line_never_blamed_on_a_source(tmp_path, bagel, reader):
    """A file-size limit makes the OS refuse writes like a full disk does (EFBIG instead of
    ENOSPC; the ENOSPC wording is checked on /dev/full below): while bagel writes a shard (toy
    sources read their own files) or while ``datasets`` writes its cache (boolq's sample)."""
    import resource

    def limit():
        signal.signal(signal.SIGXFSZ, signal.SIG_IGN)
        resource.setrlimit(resource.RLIMIT_FSIZE, (1024, 1024))

    env = dict(os.environ, PYTHONPATH=_path(tmp_path))
    out = tmp_path / "o"
    if reader == "datasets":
        args = [
            "run",
            "--sample",
            "--sources",
            "boolq",
            "--dpo",
            "none",
            "--formats",
            "vicuna",
            "--decontaminate",
            "none",
            "--out",
            str(out),
            "-q",
        ]
    else:
        args = ["run", "--data-root", bagel.data_root, *TOY_ARGS, "--out", str(out)]
    result = subprocess.run(
        [sys.executable, "-m", "bagel_core", *args],
        capture_output=True,
        text=True,
        env=env,
        cwd=tmp_path,
        preexec_fn=limit,
        timeout=300,
    )
    assert_one_line_error(result, "file too large")
    assert "not available" not in result.stderr and "failed" not in result.stderr
    if reader == "own files":
        assert str(out / ".bagel-work") in result.stderr  # names the file it was writing


def test_no_space_left_is_named_as_such():
    """pyarrow keeps the OS error number of a full disk (/dev/full always is one)."""
    import pyarrow as pa
    import pyarrow.parquet as pq

    from bagel_core import errors

    with pytest.raises(OSError) as info:
        writer = pq.ParquetWriter("/dev/full", pa.schema([("a", pa.string())]))
        writer.write_table(pa.table({"a": ["x" * 1_000_000]}))
        writer.close()
    assert errors.describe(info.value).startswith("no space left on the device")
    named = OSError(info.value.errno, info.value.strerror, "/out/sft.parquet")
    assert errors.describe(named).startswith("no space left on the device (/out/sft.parquet): free some space")


def test_missing_optional_dependency_is_one_line(tmp_path, bagel):
    args = [
        "run",
        "--sample",
        "--sources",
        "boolq",
        "--dpo",
        "none",
        "--formats",
        "vicuna",
        "--decontaminate",
        "embedding",
        "--benchmarks",
        "gsm8k",
        "--out",
        str(tmp_path / "o"),
        "-q",
    ]
    # faiss: every embedding search needs it (the transformer itself only runs on candidates).
    result = bagel(*args, faults=True, BAGEL_FAULT_NO_MODULE="faiss")
    assert_one_line_error(
        result, "missing optional dependency 'faiss': pip install 'bagel-core[decontaminate]'", "--decontaminate none"
    )


def test_missing_benchmark_data_under_the_default_decontamination_is_one_line(tmp_path, bagel):
    """Toy data, no benchmark data, offline: ``bagel run`` decontaminates by default, so it stops
    naming the benchmark set and its dataset, and how to run without them; nothing is written."""
    toy = ["run", "--data-root", bagel.data_root, "--sources", "toy-high", "--dpo", "none", "--formats", "vicuna", "-q"]
    result = bagel(*toy, "--out", str(tmp_path / "o"))
    assert_one_line_error(result, "is not available", "--benchmarks a,b", "--decontaminate none")
    assert result.stderr.startswith("Error: benchmark set '") and not (tmp_path / "o" / "sft.parquet").exists()
    one = bagel(*toy, "--benchmarks", "gsm8k", "--out", str(tmp_path / "o"))
    assert_one_line_error(one, "benchmark set 'gsm8k': dataset 'openai/gsm8k' is not available", "--decontaminate none")
    assert bagel(*toy, "--benchmarks", "gsm8k", "--decontaminate", "none", "--out", str(tmp_path / "o")).returncode == 0


def test_benchmark_rows_without_their_field_stop_the_run_naming_the_set(tmp_path, bagel):
    """A GSM8K test file whose ``question`` column is missing (renamed): the run would otherwise
    decontaminate against nothing and look clean. One line names the set, the reason and where."""
    import shutil

    import pyarrow.parquet as pq

    from bagel_sources_builtin import SAMPLES

    root = tmp_path / "root"
    shutil.copytree(bagel.data_root, root)
    shutil.copytree(SAMPLES / "openai" / "gsm8k", root / "openai" / "gsm8k")
    [test_file] = (root / "openai" / "gsm8k" / "main").glob("test-*.parquet")
    table = pq.read_table(test_file)
    pq.write_table(table.rename_columns(["query" if n == "question" else n for n in table.column_names]), test_file)
    toy = [
        "run",
        "--data-root",
        str(root),
        "--sources",
        "toy-high",
        "--dpo",
        "none",
        "--formats",
        "vicuna",
        "-q",
        "--decontaminate",
        "ngram",
        "--benchmarks",
        "gsm8k",
    ]
    result = bagel(*toy, "--out", str(tmp_path / "o"))
    assert_one_line_error(
        result,
        "benchmark set 'gsm8k'",
        "no text to decontaminate against",
        "missing field 'question'",
        f"{table.num_rows} (first at row 0",
    )
    assert not (tmp_path / "o" / "sft.parquet").exists()


# --- processes ----------------------------------------------------------------------------


def test_workers_end_when_the_main_process_is_killed(tmp_path, bagel, start_method):
    args = ["run", "--data-root", bagel.data_root, *TOY_ARGS, "--out", str(tmp_path / "o"), "--num-proc", "2"]
    proc = subprocess.Popen(
        [sys.executable, "-m", "bagel_core", *args],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        cwd=tmp_path,
        env=dict(os.environ, PYTHONPATH=_path(tmp_path), BAGEL_TEST_SLOW_ROW="30"),
    )
    workers = _wait_for(lambda: _children(proc.pid) if len(_children(proc.pid)) >= 2 else None, proc)
    proc.kill()
    proc.wait()
    deadline = time.monotonic() + 10
    while any(_alive(pid) for pid in workers) and time.monotonic() < deadline:
        time.sleep(0.1)
    assert not any(_alive(pid) for pid in workers)


def _children(pid: int) -> list[int]:
    path = Path(f"/proc/{pid}/task/{pid}/children")
    return [int(p) for p in path.read_text().split()] if path.exists() else []


def _alive(pid: int) -> bool:
    try:
        state = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
    except (FileNotFoundError, ProcessLookupError):
        return False
    return state != "Z"  # a zombie has ended; only its exit status waits to be collected


# --- warnings -----------------------------------------------------------------------------


def test_a_mostly_rejected_source_is_a_loud_warning(tmp_path, bagel):
    root = tmp_path / "mostly-bad"
    write_jsonl(
        root / "toy" / "high" / "rows.jsonl",
        [{"q": "What is 2 + 2?", "a": "4"}] + [{"q": f"Question {i}?"} for i in range(4)],
    )
    out = tmp_path / "o"
    result = bagel(
        "run",
        "--data-root",
        str(root),
        "--sources",
        "toy-high",
        "--dpo",
        "none",
        "--formats",
        "vicuna",
        "--decontaminate",
        "none",
        "--out",
        str(out),
        "-q",
    )
    assert result.returncode == 0, result.stderr
    warning = "toy-high: 4 of 5 rows rejected for \"missing field 'a'\" (first at row 1)"
    assert f"warning: {warning}" in result.stderr
    manifest = publish.read_json(out / MANIFEST)
    assert manifest["warnings"] == [warning]
    assert manifest["sources"]["toy-high"]["rejected_examples"]["missing field 'a'"]["row"] == "{'q': 'Question 0?'}"
    assert f"- **{warning}**" in (out / "README.md").read_text()


def test_health_warns_about_sources_that_yield_nothing_or_mostly_one_rejection():
    from bagel_core.health import source_warnings

    sources = {
        "fine": {"loaded": 90, "rejected": {"bad value": 10}, "filtered": {}},
        "all-filtered": {"loaded": 0, "rejected": {}, "filtered": {"refusal": 12}},
        "empty": {"loaded": 0, "rejected": {}, "filtered": {}},
        "mostly": {
            "loaded": 3,
            "rejected": {"wrong type": 6, "bad value": 1},
            "filtered": {},
            "rejected_examples": {"wrong type": {"at": "f.jsonl line 2"}},
        },
    }
    assert source_warnings(sources) == [
        "all-filtered yielded nothing (all 12 rows were filtered)",
        "empty yielded nothing (no rows at all)",
        "mostly: 6 of 10 rows rejected for 'wrong type' (first at f.jsonl line 2)",
    ]


def test_a_components_declared_module_is_checked_before_any_data_is_read(tmp_path, bagel):
    """``requires_modules``: a selected component whose library is missing stops the run at
    once (no load stage ran, nothing in the work folder), naming the component and module."""
    out = tmp_path / "o"
    args = [
        "run",
        "--sample",
        "--sources",
        "boolq",
        "--dpo",
        "none",
        "--formats",
        "vicuna",
        "--decontaminate",
        "none",
        "--dedup",
        "exact,minhash",
        "--out",
        str(out),
        "-q",
    ]
    result = bagel(*args, faults=True, BAGEL_FAULT_NO_MODULE="rensa")
    assert_one_line_error(
        result, "deduper 'minhash'", "missing optional dependency 'rensa'", "pip install 'bagel-core[dedup]'"
    )
    assert not (out / ".bagel-work" / "load").exists()
