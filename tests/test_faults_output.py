"""Fault suite of the output side (issue 22): bagel never destroys a user's files and never
publishes a wrong output. Each test reproduces one case a hostile but realistic user (or a
failing machine) hit, and shows the new behaviour: a one-line error, or untouched files.
"""

import errno
import json
import os
import shutil
import subprocess
import sys
import time
from pathlib import Path

import pytest
from engine_fixtures import REPO, install_fake_dist
from test_faults import assert_one_line_error, snapshot

from bagel_core import publish
from bagel_core.config import ConfigError, RunConfig, load_recipe
from bagel_core.options import REDACTED
from bagel_core.pipeline import run
from bagel_core.publish import MANIFEST, OutputNotWritable
from bagel_core.storage import atomic_path

TOY = dict(sources="toy-high,toy-low", dpo="toy-pairs", formats="vicuna,chatml", decontaminate="none")
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

#: A source with two secret options: one named like a secret, one marked ``Secret()``.
KEYED = """
import json
from dataclasses import dataclass
from typing import Annotated

from bagel_core import Secret, Source, as_conversation, hookimpl


class Keyed(Source):
    name = "keyed"
    description = "toy rows behind an API"
    dataset_ids = ("toy/high",)

    @dataclass
    class Options:
        api_key: str = ""
        auth: Annotated[str, Secret()] = ""

    def rows(self, ctx):
        assert self.options.api_key and self.options.auth  # the component gets the real values
        with open(ctx.dataset_file(self.dataset_ids[0], "rows.jsonl")) as fh:
            for line in fh:
                yield json.loads(line)

    def convert(self, row, ctx):
        return as_conversation("keyed", row["q"], row["a"])


@hookimpl
def register_sources(register):
    register(Keyed)
"""


@pytest.fixture
def bagel(tmp_path, toy_root):
    """``bagel(*args, cwd=..., **env)``: the CLI in a subprocess, with the toy plugin and the
    ``keyed`` source installed."""
    site = install_fake_dist(tmp_path / "site", "bagel-toy", "1.0", {"toy": "toy_plugin"})
    install_fake_dist(site, "bagel-keyed", "1.0", {"keyed": "keyed_plugin"}, {"keyed_plugin": KEYED})
    path = os.pathsep.join([str(site), str(REPO / "tests"), os.environ.get("PYTHONPATH", "")])

    def call(*args, cwd=tmp_path, popen=False, **env):
        full = dict(os.environ, PYTHONPATH=path, **env)
        command = [sys.executable, "-m", "bagel_core", *args]
        if popen:
            return subprocess.Popen(
                command, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=full, cwd=cwd
            )
        return subprocess.run(command, capture_output=True, text=True, env=full, cwd=cwd, timeout=300)

    call.data_root = str(toy_root)
    return call


def _users_folder(folder: Path) -> dict[str, str]:
    """A folder of the user's: a README, a manifest of theirs, a parquet file and notes."""
    folder.mkdir(parents=True, exist_ok=True)
    (folder / "README.md").write_text("# My project\n")
    (folder / MANIFEST).write_text('{"files": {"notes.txt": {}}, "owner": "me"}\n')
    (folder / "sft.parquet").write_bytes(b"PAR1 my own data PAR1")
    (folder / "notes.txt").write_text("do not lose me\n")
    return snapshot(folder)


def _config(out: Path, toy_root: Path, **kw) -> RunConfig:
    return RunConfig(out=out, data_root=toy_root, **{**TOY, **kw})


# --- case 1: --out over the user's files ------------------------------------------------------


def test_out_holding_the_users_files_is_refused_and_left_untouched(tmp_path, bagel):
    out = tmp_path / "mine"
    before = _users_folder(out)
    result = bagel("run", "--data-root", bagel.data_root, *TOY_ARGS, "--out", str(out))
    assert_one_line_error(result, f"--out {out} holds files bagel did not write", "README.md", "notes.txt", "--force")
    assert snapshot(out) == before and sorted(p.name for p in out.iterdir()) == sorted(before)  # not even a lock file


def test_force_replaces_only_bagels_own_names_and_deletes_nothing_else(tmp_path, toy_root, toy_registry):
    out = tmp_path / "mine"
    before = _users_folder(out)
    with pytest.raises(OutputNotWritable):
        run(_config(out, toy_root), toy_registry)
    run(_config(out, toy_root), toy_registry, force=True)
    after = snapshot(out)
    assert after["notes.txt"] == before["notes.txt"]  # the foreign manifest listed it: kept all the same
    assert all(after[n] != before[n] for n in ("README.md", MANIFEST, "sft.parquet"))  # bagel's names: replaced
    assert publish.read_json(out / MANIFEST)["format"] == publish.FORMAT
    # notes.txt is still the user's: the next run needs --force again, and never deletes it.
    with pytest.raises(OutputNotWritable, match="notes.txt"):
        run(_config(out, toy_root, copies_per_item=1), toy_registry)
    run(_config(out, toy_root, copies_per_item=1), toy_registry, force=True)
    assert (out / "notes.txt").read_text() == "do not lose me\n"


def test_out_dot_in_a_git_repository_keeps_the_projects_readme(tmp_path, bagel):
    repo = tmp_path / "repo"
    (repo / ".git").mkdir(parents=True)
    (repo / "README.md").write_text("# The project\n")
    result = bagel("run", "--data-root", bagel.data_root, *TOY_ARGS, "--out", ".", cwd=repo)
    assert_one_line_error(result, "--out . holds files bagel did not write", ".git/", "README.md")
    assert (repo / "README.md").read_text() == "# The project\n" and sorted(p.name for p in repo.iterdir()) == [
        ".git",
        "README.md",
    ]


def test_empty_out_is_an_error_on_the_command_line_and_in_a_recipe(tmp_path, bagel):
    result = bagel("run", "--data-root", bagel.data_root, *TOY_ARGS, "--out", "")
    assert_one_line_error(result, "out = '' is not allowed; expected a path (not empty)")
    recipe = tmp_path / "r.toml"
    recipe.write_text('[run]\nout = ""\n')
    with pytest.raises(ConfigError, match="out = '' is not allowed"):
        RunConfig(**load_recipe(recipe))
    assert not (tmp_path / "bagel-out").exists() and not (tmp_path / "sft.parquet").exists()


def test_the_default_out_and_reruns_into_bagels_own_folder_need_no_flag(tmp_path, bagel):
    """The default ``--out bagel-out``: a new folder the first time, bagel's own afterwards; the
    work folder, lock, ``bagel report``'s and ``bagel export``'s files are bagel's too."""
    args = ["run", "--data-root", bagel.data_root, *TOY_ARGS]
    assert bagel(*args).returncode == 0
    out = tmp_path / "bagel-out"
    assert (out / MANIFEST).is_file() and (out / publish.LOCK).is_file() and (out / publish.WORK).is_dir()
    (out / "report.html").write_text("<html></html>")
    (out / "axolotl").mkdir()
    again = bagel(*args, "--copies-per-item", "1")
    assert again.returncode == 0, again.stderr
    assert (out / "report.html").exists() and (out / "axolotl").is_dir()


def test_the_work_folder_may_be_inside_out_but_not_out_itself(tmp_path, toy_root, toy_registry):
    out = tmp_path / "out"
    for copies in (None, 1):  # the second run finds the work folder's entry in OUT: bagel's
        assert not run(_config(out, toy_root, work_dir=out / "cache", copies_per_item=copies), toy_registry).reused
    assert (out / "cache" / "load").is_dir()
    with pytest.raises(OutputNotWritable, match="--work-dir .* is the output folder itself"):
        run(_config(tmp_path / "other", toy_root, work_dir=tmp_path / "other"), toy_registry)


# --- case 2: a manifest that is not bagel's steers nothing -------------------------------------


@pytest.mark.parametrize(
    "files",
    [
        {"notes.txt": {}},  # a foreign manifest
        {"notes.txt": {"bytes": 1, "blake2b": "x"}, "../outside.txt": {"bytes": 1, "blake2b": "x"}},
        {"notes.txt": {"bytes": 1, "blake2b": "x"}, "sub": {"bytes": 1, "blake2b": "x"}},
        {"notes.txt": {"bytes": 1, "blake2b": "x"}, "/etc/hostname": {"bytes": 1, "blake2b": "x"}},
    ],
)
def test_a_manifest_bagel_did_not_write_never_steers_deletion(tmp_path, toy_root, toy_registry, files):
    out = tmp_path / "out"
    out.mkdir()
    (tmp_path / "outside.txt").write_text("outside")
    (out / "notes.txt").write_text("mine")
    (out / "sub").mkdir()
    (out / "sub" / "keep.txt").write_text("mine too")
    marked = len(files) > 1  # bagel's marker, but a file list that is not plain files inside OUT
    manifest = {"format": publish.FORMAT, "format_version": 1, "files": files} if marked else {"files": files}
    (out / MANIFEST).write_text(json.dumps(manifest))
    with pytest.raises(OutputNotWritable, match=r"manifest.json \(not bagel's\)"):
        run(_config(out, toy_root), toy_registry)
    assert not (out / publish.MARKER).exists()
    run(_config(out, toy_root), toy_registry, force=True)
    assert (out / "notes.txt").read_text() == "mine" and (out / "sub" / "keep.txt").read_text() == "mine too"
    assert (tmp_path / "outside.txt").read_text() == "outside" and not (out / publish.MARKER).exists()


def test_bagels_own_previous_files_are_still_removed(tmp_path, toy_root, toy_registry):
    """The other side of the rule: a file bagel's previous manifest listed and this run does
    not write is removed (as before), and an unchanged rerun is up to date."""
    out = tmp_path / "out"
    run(_config(out, toy_root), toy_registry)
    manifest = publish.read_json(out / MANIFEST)
    (out / "old-output.txt").write_text("from an older bagel")
    manifest["files"]["old-output.txt"] = publish.file_digest(out / "old-output.txt")
    (out / MANIFEST).write_text(json.dumps(manifest))
    run(_config(out, toy_root, copies_per_item=1), toy_registry)
    assert not (out / "old-output.txt").exists()
    assert run(_config(out, toy_root, copies_per_item=1), toy_registry).reused


def test_a_manifest_of_bagel_before_the_format_marker_is_still_bagels(tmp_path, toy_root, toy_registry):
    out = tmp_path / "out"
    run(_config(out, toy_root), toy_registry)
    manifest = publish.read_json(out / MANIFEST)
    del manifest["format"], manifest["format_version"]
    (out / MANIFEST).write_text(json.dumps(manifest))
    assert publish.inspect(out).foreign == []
    run(_config(out, toy_root, copies_per_item=1), toy_registry)  # no --force needed after an upgrade


def test_a_stopped_publish_is_still_bagels_and_its_marker_names_the_files(tmp_path, toy_root, toy_registry):
    """Killed between removing the old manifest and writing the new one: the marker lists the
    files bagel owns, so the rerun needs no --force and removes the old output's leftovers; a
    marker of bagel before the list is bagel's too, and a marker someone else wrote is not."""
    out = tmp_path / "out"
    run(_config(out, toy_root), toy_registry)
    listed = set(publish.read_json(out / MANIFEST)["files"])
    text = publish._MARKER_TEXT + publish._MARKER_FILES + json.dumps(sorted(listed | {"old.txt"})) + "\n"
    (out / publish.MARKER).write_text(text)
    (out / MANIFEST).unlink()
    (out / "old.txt").write_text("a file of the previous output")
    assert publish.inspect(out).foreign == [] and "old.txt" in publish.inspect(out).listed
    run(_config(out, toy_root, copies_per_item=1), toy_registry)
    assert not (out / "old.txt").exists() and not (out / publish.MARKER).exists()
    (out / publish.MARKER).write_text(publish._MARKER_TEXT)
    assert publish.inspect(out).foreign == []
    (out / publish.MARKER).write_text("my own notes about what is incomplete\n")
    assert publish.inspect(out).foreign == [publish.MARKER]


# --- case 3: empty is explicit -------------------------------------------------------------------


@pytest.mark.parametrize("selection", ["", " , ", []])
def test_an_empty_selection_is_an_error(selection):
    with pytest.raises(
        ConfigError, match=r"sources = .* selects nothing; name the components, or write \"all\" or \"none\""
    ):
        RunConfig(sources=selection)


def test_empty_selection_on_the_command_line_and_in_a_recipe_is_one_line(tmp_path, bagel):
    result = bagel("run", "--data-root", bagel.data_root, *TOY_ARGS, "--sources", "", "--out", str(tmp_path / "o"))
    assert_one_line_error(result, "sources = '' selects nothing")
    recipe = tmp_path / "r.toml"
    recipe.write_text("[run]\ndpo = []\n")
    result = bagel("run", "--recipe", str(recipe), "--out", str(tmp_path / "o"))
    assert_one_line_error(result, "dpo = [] selects nothing")
    assert not (tmp_path / "o").exists()


def test_zero_rows_over_an_output_with_rows_needs_allow_empty(tmp_path, toy_root, toy_registry):
    out = tmp_path / "out"
    run(_config(out, toy_root), toy_registry)
    before = snapshot(out)
    nothing = dict(sources="none", dpo="none")
    with pytest.raises(
        OutputNotWritable, match=r"this run has no rows, and --out .* holds an output with \d+ rows: add --allow-empty"
    ):
        run(_config(out, toy_root, **nothing), toy_registry)
    assert snapshot(out) == before
    manifest = run(_config(out, toy_root, **nothing), toy_registry, allow_empty=True).manifest.to_json()
    assert manifest["totals"]["sft_rows"] == 0 and publish.read_json(out / MANIFEST)["totals"]["sft_rows"] == 0
    run(_config(tmp_path / "new", toy_root, **nothing), toy_registry)  # into a new folder: nothing is lost


# --- case 13: a folder where bagel writes a file -----------------------------------------------


def test_a_folder_named_like_an_output_is_one_line_and_nothing_is_replaced(tmp_path, bagel, toy_root, toy_registry):
    out = tmp_path / "out"
    run(_config(out, toy_root), toy_registry)
    (out / "sft.parquet").unlink()
    (out / "sft.parquet").mkdir()  # as Spark writes it
    (out / "sft.parquet" / "part-0000.parquet").write_text("spark's")
    before = snapshot(out)
    result = bagel(
        "run", "--data-root", bagel.data_root, *TOY_ARGS, "--out", str(out), "--copies-per-item", "1", "--force"
    )
    assert_one_line_error(
        result,
        f"cannot publish into {out}: sft.parquet/ is a folder or other non-file where bagel writes a file; move it away",
    )
    assert (
        snapshot(out) == before
        and not (out / publish.MARKER).exists()
        and (out / "sft.parquet" / "part-0000.parquet").exists()
    )


def test_preflight_checks_every_target_before_the_first_change(tmp_path, toy_root, toy_registry):
    """A folder appearing while the run ran (after the first check): publishing still stops
    before it changes anything, and the rerun after moving it away publishes."""
    out = tmp_path / "out"
    manifest = run(_config(out, toy_root), toy_registry).manifest
    before = snapshot(out)
    stage = publish.staging(out)
    for name in ("a.txt", "zzz.txt"):
        (stage / name).write_text("new")
    (out / "zzz.txt").mkdir()
    with pytest.raises(OutputNotWritable, match="zzz.txt/ is a folder"):
        publish.publish(stage, out, manifest, force=True)
    assert snapshot(out) == before and not (out / publish.MARKER).exists()
    (out / "zzz.txt").rmdir()
    publish.publish(stage, out, manifest)
    assert (out / "zzz.txt").read_text() == "new" and not (out / publish.STAGING).exists()
    assert not (out / "sft.parquet").exists()  # bagel's previous file, not written again: removed


def test_not_enough_space_is_found_before_staging(tmp_path, toy_root, toy_registry, monkeypatch):
    out = tmp_path / "out"
    run(_config(out, toy_root), toy_registry)
    before = snapshot(out)
    usage = shutil.disk_usage(out)
    monkeypatch.setattr(publish.shutil, "disk_usage", lambda path: usage._replace(free=1000))
    with pytest.raises(
        OutputNotWritable, match=r"not enough space to publish into .*: the outputs need about 0.\d MB, 0.0 MB are free"
    ):
        run(_config(out, toy_root, copies_per_item=1), toy_registry)
    assert snapshot(out) == before and not (out / publish.STAGING).exists()


# --- case 7: concurrent runs -------------------------------------------------------------------


def _wait_for_lock(folder: Path, proc) -> None:
    deadline = time.monotonic() + 120
    while not ((folder / publish.LOCK).exists() and (folder / publish.LOCK).read_text().strip() == str(proc.pid)):
        assert proc.poll() is None, proc.communicate()
        assert time.monotonic() < deadline, "the first run never took its lock"
        time.sleep(0.1)


def test_a_second_run_into_the_same_out_or_work_folder_is_refused_naming_the_first(tmp_path, bagel):
    out, work = tmp_path / "out", tmp_path / "work"
    args = ["run", "--data-root", bagel.data_root, *TOY_ARGS, "--work-dir", str(work)]
    first = bagel(*args, "--out", str(out), popen=True, BAGEL_TEST_SLOW_ROW="5")  # toy-low loads slowly
    try:
        _wait_for_lock(out, first)
        same_out = bagel(*args, "--out", str(out), "--work-dir", str(tmp_path / "other-work"))
        assert_one_line_error(
            same_out, f"the output folder (--out) {out} is in use by another bagel run (PID {first.pid})"
        )
        same_work = bagel(*args, "--out", str(tmp_path / "other-out"))
        assert_one_line_error(
            same_work, f"the work folder (--work-dir) {work} is in use by another bagel run (PID {first.pid})"
        )
        assert first.poll() is None  # the first run was never disturbed
    finally:
        _, stderr = first.communicate(timeout=300)
    assert first.returncode == 0, stderr
    assert publish.current_manifest(out, publish.read_json(out / MANIFEST)["fingerprint"]) is not None


def test_a_lock_left_by_a_dead_run_is_taken_over(tmp_path, toy_root, toy_registry):
    out = tmp_path / "out"
    out.mkdir()
    (out / publish.LOCK).write_text("4000000\n")  # above any pid_max: a dead process
    run(_config(out, toy_root), toy_registry)
    assert (out / publish.LOCK).read_text().strip() == str(os.getpid())


# --- case 11: secrets and local paths ----------------------------------------------------------


def test_secret_options_and_home_paths_never_reach_published_files_or_messages(tmp_path, bagel, toy_root):
    home = tmp_path / "home" / "alice"
    data = home / "data"
    shutil.copytree(toy_root, data)
    out = home / "datasets" / "out"
    secrets = ["-o", "source.keyed.api_key=sk-live-123456", "--option=source.keyed.auth=hunter2-token"]
    args = [
        "run",
        "--data-root",
        str(data),
        "--sources",
        "keyed",
        "--dpo",
        "none",
        "--formats",
        "vicuna",
        "--decontaminate",
        "none",
        "--out",
        str(out),
    ]
    result = bagel(*args, *secrets, HOME=str(home))
    assert result.returncode == 0, result.stderr
    report = bagel("report", str(out), HOME=str(home))
    assert report.returncode == 0, report.stderr
    for name in (MANIFEST, "README.md", "report.html"):
        text = (out / name).read_text()
        for leak in ("sk-live-123456", "hunter2-token", str(home)):
            assert leak not in text, (name, leak)
    assert "sk-live-123456" not in result.stdout + result.stderr
    manifest = publish.read_json(out / MANIFEST)
    assert manifest["config"]["options"]["source"]["keyed"] == {"api_key": REDACTED, "auth": REDACTED}
    assert manifest["components"]["loaders"][0]["options"] == {"api_key": REDACTED, "auth": REDACTED}
    assert (
        f"source.keyed.api_key={REDACTED}" in manifest["command"]
        and f"--option=source.keyed.auth={REDACTED}" in manifest["command"]
    )
    assert manifest["config"]["data_root"] == "~/data" and manifest["config"]["out"] == "."
    assert "--out ~/datasets/out" in manifest["command"] and "folder = 'out'" in (out / "README.md").read_text()
    # A secret of the wrong type is an error that does not print it; a path in an error is ~.
    bad = bagel(*args, "-o", "source.keyed.api_key=12345678", HOME=str(home))
    assert_one_line_error(bad, f"api_key = {REDACTED} is not allowed")
    assert "12345678" not in bad.stderr
    missing = bagel(*args, *secrets, "--tokenizer", str(home / "no-such"), HOME=str(home))
    assert_one_line_error(missing, "--tokenizer '~/no-such'")


def test_outside_the_home_folder_the_card_and_command_keep_the_path_as_given(
    tmp_path, toy_root, toy_registry, monkeypatch
):
    """The command line must still run: OUT is written relative only in the manifest's
    settings, never in the command that made it; the card's usage snippet names the folder."""
    monkeypatch.setenv("HOME", str(tmp_path / "home"))
    out = tmp_path / "out"
    command = f"bagel run --out {out} -o format.vicuna.system_prompt_probability=0.5"
    manifest = run(_config(out, toy_root), toy_registry, command=command).manifest.to_json()
    assert manifest["command"] == command and manifest["config"]["out"] == "."
    # The card names the folder by its name (issue 26: a card holds no absolute path).
    card = (out / "README.md").read_text()
    assert "folder = 'out'" in card and 'load_dataset(folder, "sft"' in card


# --- case 14: smaller --------------------------------------------------------------------------


def test_no_space_names_the_file_being_written_not_a_temporary_or_the_source(tmp_path):
    """A full disk raises OSError with no file name (a failed flush) or, in a copy, with the
    source first (shutil): either way the error names the file bagel was writing."""
    from bagel_core import errors

    target = tmp_path / "out" / "near_duplicates.parquet"
    with pytest.raises(OSError) as info:
        with atomic_path(target):
            raise OSError(errno.ENOSPC, "No space left on device")
    assert (
        errors.describe(info.value)
        == f"no space left on the device ({target}): free some space or choose another --out / --work-dir"
    )
    source = tmp_path / "work" / "near_duplicates.parquet"
    with pytest.raises(OSError) as info:
        with atomic_path(target) as tmp:
            raise OSError(errno.ENOSPC, "No space left on device", str(source), None, str(tmp))
    assert errors.describe(info.value).startswith(f"no space left on the device ({target})")
    copy_error = OSError(errno.ENOSPC, "No space left on device", str(source), None, str(target))
    assert errors.describe(copy_error).startswith(f"no space left on the device ({target})")  # outside atomic_path too
    assert not list(target.parent.iterdir())  # no temporary left behind


@pytest.mark.parametrize("value", ["nan", "inf", "-inf"])
def test_nan_and_infinite_probabilities_are_one_line(tmp_path, bagel, value):
    result = bagel(
        "run",
        "--data-root",
        bagel.data_root,
        *TOY_ARGS,
        "--out",
        str(tmp_path / "o"),
        "-o",
        f"format.vicuna.system_prompt_probability={value}",
    )
    assert_one_line_error(result, f"system_prompt_probability = {value} is not allowed; expected a finite number")


@pytest.mark.parametrize(
    "value, traceback", [("off", False), ("false", False), ("no", False), ("0", False), ("1", True), ("on", True)]
)
def test_bagel_debug_is_read_as_a_boolean(tmp_path, bagel, monkeypatch, value, traceback):
    """In the process and in what it inherits (errors.debug() reads the variable)."""
    from bagel_core import errors

    monkeypatch.setenv(errors.DEBUG_ENV, value)
    assert errors.debug() is traceback
    monkeypatch.delenv(errors.DEBUG_ENV)
    if value in ("off", "1"):  # and through the CLI, where a traceback is what it changes
        result = bagel(
            "run",
            "--data-root",
            bagel.data_root,
            *TOY_ARGS,
            "--out",
            str(tmp_path / "o"),
            "--tokenizer",
            "/nonexistent",
            BAGEL_DEBUG=value,
        )
        assert result.returncode == 1 and ("Traceback" in result.stderr) is traceback, result.stderr


def test_a_recipe_with_a_byte_order_mark_reads(tmp_path):
    recipe = tmp_path / "r.toml"
    recipe.write_bytes('\ufeff[run]\nsources = "toy-high"\nseed = 3\n'.encode("utf-8"))
    assert load_recipe(recipe)["seed"] == 3
