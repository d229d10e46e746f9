"""Fault injection on the input side (issue 22): plugins that end bagel, print on stdout, hang or
ignore SIGTERM; literal paths, symlink loops, files holding several JSON values, BOMs, rows
nested too deep, lone surrogates and wrong types; huge items and too many workers.

Each case runs the real command line in a subprocess where exit codes, signals or stdout matter,
and shows the new behaviour: a one-line error naming the plugin, a counted row with its file and
line, or the run going on.
"""

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from bagel_core import publish
from bagel_core.stages.write import MANIFEST

from engine_fixtures import REPO, TOY_HIGH, install_fake_dist, write_jsonl
from test_faults import _alive, _children, _wait_for, assert_one_line_error

ROWS = [{"n": i, "q": f"Question number {i}?", "a": f"Answer {i}."} for i in range(6)]
HOSTILE = ["--sources", "hostile", "--dpo", "none", "--formats", "vicuna", "--decontaminate", "none", "-q"]


@pytest.fixture
def root(tmp_path) -> Path:
    root = tmp_path / "data"
    write_jsonl(root / "hostile" / "rows" / "rows.jsonl", ROWS)
    write_jsonl(root / "toy" / "high" / "rows.jsonl", TOY_HIGH)
    return root


def _env(tmp_path: Path, **env) -> dict:
    site = tmp_path / "site"
    if not site.exists():
        install_fake_dist(site, "bagel-hostile", "1.0", {"hostile": "hostile_plugin", "toy": "toy_plugin"})
    path = os.pathsep.join([str(site), str(REPO / "tests"), os.environ.get("PYTHONPATH", "")])
    return dict(os.environ, PYTHONPATH=path, **env)


@pytest.fixture
def bagel(tmp_path, root):
    """``bagel(*args, **env)``: the CLI in a subprocess with the hostile and toy plugins."""

    def call(*args, **env):
        return subprocess.run([sys.executable, "-m", "bagel_core", *args], capture_output=True, text=True,
                              env=_env(tmp_path, **env), cwd=tmp_path, timeout=300)

    call.root = str(root)
    return call


def _run(bagel, tmp_path, *extra, **env):
    return bagel("run", "--data-root", bagel.root, *HOSTILE, "--out", str(tmp_path / "o"), *extra, **env)


# --- case 4: a plugin's sys.exit() -------------------------------------------------------


@pytest.mark.parametrize("hook", ["setup", "rows", "convert", "convert:interrupt"])
@pytest.mark.parametrize("num_proc", ["1", "2"])
def test_a_plugins_sys_exit_in_a_loader_is_an_error_naming_it(tmp_path, bagel, hook, num_proc):
    extra = ["--num-proc", num_proc, "--sources", "hostile,toy-high"] if num_proc == "2" else []
    result = _run(bagel, tmp_path, *extra, BAGEL_TEST_EXIT=hook)
    what = "raised KeyboardInterrupt" if hook.endswith("interrupt") else "called sys.exit(0)"
    assert_one_line_error(result, "source 'hostile' (hostile_plugin)", what, "hostile_plugin.py:", "plugin code may not end bagel")
    assert not (tmp_path / "o" / MANIFEST).exists()


@pytest.mark.parametrize("num_proc", ["1", "2"])
def test_a_formats_sys_exit_while_rendering_is_an_error_naming_it(tmp_path, bagel, num_proc):
    result = _run(bagel, tmp_path, "--formats", "hostile-format", "--num-proc", num_proc, BAGEL_TEST_EXIT="render")
    assert_one_line_error(result, "format 'hostile-format' (hostile_plugin) called sys.exit(0)")
    assert not (tmp_path / "o" / MANIFEST).exists()


def test_a_formats_sys_exit_in_chat_template_is_an_error(tmp_path, bagel):
    result = bagel("chat-template", "hostile-format", BAGEL_TEST_EXIT="chat_template")
    assert_one_line_error(result, "format 'hostile-format' (hostile_plugin) called sys.exit(0)")


def test_a_plugins_sys_exit_at_import_is_a_load_error_of_that_plugin(tmp_path, bagel):
    assert bagel("list-plugins").returncode == 0  # installs the site folder
    bad = tmp_path / "site" / "exits_plugin.py"
    bad.write_text("import sys\nsys.exit(3)\n")
    install_fake_dist(tmp_path / "site", "bagel-exits", "1.0", {"exits": "exits_plugin"})
    listed = bagel("list-plugins")
    assert listed.returncode == 0, listed.stderr
    assert "exits (bagel-exits 1.0)" in listed.stdout and "plugin 'exits' called sys.exit(3)" in listed.stdout
    # and every other command still works
    assert bagel("chat-template", "hostile-format").returncode == 0


# --- case 14: plugin stdout --------------------------------------------------------------


def test_plugin_stdout_never_corrupts_machine_readable_output(tmp_path, bagel):
    listed = bagel("list-plugins", "--json", BAGEL_TEST_PRINT="1")
    assert listed.returncode == 0, listed.stderr
    names = [p["name"] for p in json.loads(listed.stdout)]  # stdout is the JSON alone
    assert "hostile" in names
    assert "hostile: imported\n" in listed.stderr and "hostile: imported (C level)" in listed.stderr
    template = bagel("chat-template", "hostile-format", BAGEL_TEST_PRINT="1")
    assert template.returncode == 0, template.stderr
    assert template.stdout.startswith("{% for m in messages %}") and "hostile:" not in template.stdout
    assert "hostile: making a chat template" in template.stderr
