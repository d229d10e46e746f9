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
from engine_fixtures import REPO, TOY_HIGH, install_fake_dist, write_jsonl
from test_faults import _alive, _children, _wait_for, assert_one_line_error

from bagel_core import Source, as_conversation, publish
from bagel_core.publish import MANIFEST

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
    # This checkout's code first, whatever bagel the environment has installed.
    code = [str(REPO), *(str(p) for p in sorted((REPO / "plugins").glob("bagel-*-builtin")))]
    path = os.pathsep.join([str(site), str(REPO / "tests"), *code, os.environ.get("PYTHONPATH", "")])
    return dict(os.environ, PYTHONPATH=path, **env)


@pytest.fixture
def bagel(tmp_path, root):
    """``bagel(*args, **env)``: the CLI in a subprocess with the hostile and toy plugins."""

    def call(*args, **env):
        return subprocess.run(
            [sys.executable, "-m", "bagel_core", *args],
            capture_output=True,
            text=True,
            env=_env(tmp_path, **env),
            cwd=tmp_path,
            timeout=300,
        )

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
    assert_one_line_error(
        result, "source 'hostile' (hostile_plugin)", what, "hostile_plugin.py:", "plugin code may not end bagel"
    )
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
    assert any(
        line.split()[:2] == ["exits", "1.0"] and line.rstrip().endswith("error") for line in listed.stdout.splitlines()
    ), listed.stdout
    assert "plugin 'exits' called sys.exit(3)" in listed.stdout
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


# --- case 5: literal paths are literal ----------------------------------------------------


def _local(tmp_path, paths, **options):
    from bagel_core.testing import load_sample
    from bagel_sources_builtin.local_files import LocalFiles

    return load_sample(LocalFiles, {"paths": paths, **options}, data_root=tmp_path)


def _texts(records):
    return sorted(r["text"] for r in records)


def test_a_path_that_exists_is_read_literally_never_as_a_pattern(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    write_jsonl(tmp_path / "chats [2024].jsonl", [{"text": "the 2024 chats"}])
    write_jsonl(tmp_path / "chats 2.jsonl", [{"text": "chats two"}])
    write_jsonl(tmp_path / "what?.jsonl", [{"text": "a question mark"}])
    write_jsonl(tmp_path / "whatx.jsonl", [{"text": "not this one"}])
    assert _texts(_local(tmp_path, ["chats [2024].jsonl"])[0]) == ["the 2024 chats"]
    assert _texts(_local(tmp_path, [str(tmp_path / "what?.jsonl")])[0]) == ["a question mark"]
    # Brackets in an implicit pattern are literal too; glob: gives the full syntax.
    assert _texts(_local(tmp_path, ["chats [2024]*"])[0]) == ["the 2024 chats"]
    assert _texts(_local(tmp_path, ["glob:chats [2024].jsonl"])[0]) == ["chats two"]
    assert _texts(_local(tmp_path, ["*.jsonl"])[0]) == [
        "a question mark",
        "chats two",
        "not this one",
        "the 2024 chats",
    ]
    # A literal path that does not exist is an error naming it, not another file.
    with pytest.raises(FileNotFoundError, match=r"no file matches 'chats \[2025\].jsonl'"):
        _local(tmp_path, ["chats [2025].jsonl"])


# --- case 8: symbolic link loops -----------------------------------------------------------


def test_symlink_loops_end_and_each_real_file_is_read_once(tmp_path, monkeypatch):
    data = tmp_path / "d"
    write_jsonl(data / "a.jsonl", [{"text": "alpha"}])
    write_jsonl(data / "sub" / "b.jsonl", [{"text": "beta"}])
    (data / "self").symlink_to(".")
    (data / "sub" / "up").symlink_to("..")
    (data / "sub" / "twin.jsonl").symlink_to("../a.jsonl")
    (data / "loop1").symlink_to("loop2")
    (data / "loop2").symlink_to("loop1")
    monkeypatch.chdir(tmp_path)
    for paths in (["d/**/*.jsonl"], [str(data / "**" / "*.jsonl")], ["d/**/*.jsonl", "d/a.jsonl", "d/self/a.jsonl"]):
        records, counts = _local(tmp_path, paths)
        assert _texts(records) == ["alpha", "beta"], paths


def test_a_symlink_loop_through_the_cli_ends(tmp_path, bagel):
    data = tmp_path / "d"
    write_jsonl(
        data / "a.jsonl", [{"conversations": [{"from": "human", "value": "Hi?"}, {"from": "gpt", "value": "Hello."}]}]
    )
    (data / "self").symlink_to(".")
    (data / "up").symlink_to("..")
    result = bagel(
        "run",
        "--sources",
        "local",
        "--dpo",
        "none",
        "--formats",
        "vicuna",
        "--decontaminate",
        "none",
        "-q",
        "-o",
        f'source.local.paths=["{data}/**/*.jsonl"]',
        "--out",
        str(tmp_path / "o"),
    )
    assert result.returncode == 0, result.stderr
    manifest = publish.read_json(tmp_path / "o" / MANIFEST)
    assert manifest["sources"]["local"]["loaded"] == 1


# --- case 6: several JSON values in one file; a BOM ---------------------------------------


@pytest.mark.parametrize(
    "content, where",
    [
        (b'[{"text": "one"}]\n[{"text": "two"}]\n', '\'[{"text": "two"}]\\n\' after the array, at line 2 column 1'),
        (b'[{"text": "one"}, {"text": "two"}]  trailing junk', "'trailing junk' after the array, at line 1 column 37"),
    ],
)
def test_a_json_file_with_more_than_one_value_is_rejected_naming_file_and_position(tmp_path, content, where):
    from bagel_core import MalformedFile

    path = tmp_path / "rows.json"
    path.write_bytes(content)
    with pytest.raises(
        MalformedFile, match=f"{path}: present but malformed: not a valid JSON array \\(more than one JSON value: "
    ):
        _local(tmp_path, [str(path)])
    with pytest.raises(MalformedFile) as info:
        _local(tmp_path, [str(path)])
    assert where in str(info.value)


def test_a_json_file_with_two_arrays_read_through_datasets_is_rejected(tmp_path):
    from test_faults import _load

    from bagel_core.stages.load import LoadError

    with pytest.raises(
        LoadError,
        match=r"rows.json: present but malformed: not a valid JSON array \(more than one JSON value: .* at line 2 column 1\)",
    ):
        _load(tmp_path, "rows.json", b'[{"q": "a?", "a": "b"}]\n[{"q": "c?", "a": "d"}]\n')


def test_a_bom_opening_a_jsonl_file_is_not_a_rejected_row(tmp_path):
    from test_faults import _load

    path = tmp_path / "bom.jsonl"
    path.write_bytes(b'\xef\xbb\xbf{"text": "first"}\n{"text": "second"}\n')
    records, counts = _local(tmp_path, [str(path)])
    assert _texts(records) == ["first", "second"] and not counts.rejected
    counts, _ = _load(
        tmp_path,
        "rows.jsonl",
        b'\xef\xbb\xbf{"q": "What is 2 + 2?", "a": "4"}\n{"q": "Name a colour.", "a": "Blue."}\n',
    )
    assert counts.loaded == 2 and not counts.rejected


# --- case 12: bad rows are counted with file and line ------------------------------------

DEEP = b'{"text": ' + b"[" * 10_000 + b"]" * 10_000 + b"}"
GOOD_CHAT = {"messages": [{"role": "user", "content": "Hi?"}, {"role": "assistant", "content": "Hello."}]}


@pytest.mark.parametrize(
    "line, reason",
    [
        (DEEP, "nested too deeply"),
        (b'{"text": "half a pair: \\ud800 here"}', "lone surrogate"),
    ],
)
def test_rows_nested_too_deep_or_with_a_lone_surrogate_are_counted_with_file_and_line(tmp_path, line, reason):
    path = tmp_path / "rows.jsonl"
    path.write_bytes(b'{"text": "good one"}\n' + line + b'\n{"text": "emoji \\ud83d\\ude00 is fine"}\n')
    records, counts = _local(tmp_path, [str(path)])
    assert _texts(records) == ["emoji \U0001f600 is fine", "good one"]
    assert counts.rejected == {reason: 1} and counts.examples[reason]["at"] == f"{path} line 2"


@pytest.mark.parametrize(
    "line, reason",
    [
        (DEEP.replace(b'"text"', b'"q"'), "rows.jsonl line 2"),
        (b'{"q": "half a pair: \\ud800 here", "a": "x"}', None),
    ],
)
def test_the_same_rows_through_datasets_are_counted(tmp_path, line, reason):
    from test_faults import _load

    counts, _ = _load(
        tmp_path,
        "rows.jsonl",
        b'{"q": "What is 2 + 2?", "a": "4"}\n' + line + b'\n{"q": "Name a colour.", "a": "Blue."}\n',
    )
    assert counts.loaded == 2 and sum(counts.rejected.values()) == 1, counts


@pytest.mark.parametrize(
    "bad", [b'{"q": "Half \\udc00 a pair?", "a": "x"}', b'{"q": "Half a pair?", "a": "x \\udc00"}']
)
def test_a_plugins_own_json_with_a_lone_surrogate_is_a_counted_row_not_a_crash(tmp_path, bagel, bad):
    """toy-high parses its lines itself (json.loads): in the instruction the id's hash meets the
    surrogate, in the answer only the shard's writing does; both are the row's fault."""
    rows = tmp_path / "data" / "toy" / "high" / "rows.jsonl"
    rows.write_bytes(b'{"q": "What is 2 + 2?", "a": "4"}\n' + bad + b'\n{"q": "Say hi.", "a": "Hi."}\n')
    result = bagel(
        "run",
        "--data-root",
        bagel.root,
        "--sources",
        "toy-high",
        "--dpo",
        "none",
        "--formats",
        "vicuna",
        "--decontaminate",
        "none",
        "-q",
        "--out",
        str(tmp_path / "o"),
    )
    assert result.returncode == 0, result.stderr
    toy = publish.read_json(tmp_path / "o" / MANIFEST)["sources"]["toy-high"]
    assert toy["loaded"] == 2 and toy["rejected"] == {"lone surrogate": 1}


@pytest.mark.parametrize(
    "turn",
    [
        {"role": ["user"], "content": "Hi?"},
        {"role": {"name": "user"}, "content": "Hi?"},
        {"role": 3, "content": "Hi?"},
    ],
)
def test_wrong_types_in_a_builtin_plugins_row_are_counted_not_blamed_on_the_plugin(tmp_path, turn):
    path = write_jsonl(
        tmp_path / "chats.jsonl", [GOOD_CHAT, {"messages": [turn, {"role": "assistant", "content": "Hello."}]}]
    )
    records, counts = _local(tmp_path, [str(path)])
    assert len(records) == 1 and counts.rejected == {"wrong type": 1}
    assert counts.examples["wrong type"]["at"] == f"{path} line 2"


# --- case 9: a hung worker, one that ignores SIGTERM ---------------------------------------


@pytest.mark.parametrize("how", ["sleep", "busy"])
def test_sigterm_kills_a_worker_that_ignores_it_and_bagel_exits_non_zero(tmp_path, root, how):
    """Row 2 of ``hostile`` makes its worker ignore SIGTERM and never return (sleeping, or a
    Python loop); SIGTERM to bagel must still end bagel and every worker, exit 143."""
    args = [
        "run",
        "--data-root",
        str(root),
        *HOSTILE,
        "--sources",
        "hostile,toy-high",
        "--num-proc",
        "2",
        "--out",
        str(tmp_path / "o"),
    ]
    hang = "2" if how == "sleep" else "2:busy"
    proc = subprocess.Popen(
        [sys.executable, "-m", "bagel_core", *args],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        cwd=tmp_path,
        env=_env(tmp_path, BAGEL_TEST_HANG=hang),
    )
    # Both workers started, toy-high's load finished: the other worker is the stuck one.
    workers = _wait_for(
        lambda: (
            _children(proc.pid)
            if len(_children(proc.pid)) >= 2
            and list((tmp_path / "o" / ".bagel-work" / "load").glob("source-toy-high-*/counts.json"))
            else None
        ),
        proc,
    )
    time.sleep(1.0)  # the hostile worker is inside its row by now
    proc.send_signal(signal.SIGTERM)
    _, stderr = proc.communicate(timeout=60)  # before the fix: never returns
    assert proc.returncode == 128 + signal.SIGTERM, stderr
    assert "stopped by SIGTERM" in stderr and "Traceback" not in stderr
    deadline = time.monotonic() + 10
    while any(_alive(pid) for pid in workers) and time.monotonic() < deadline:
        time.sleep(0.1)
    assert not any(_alive(pid) for pid in workers)


# --- per-item time limit ------------------------------------------------------------------


@pytest.mark.parametrize("num_proc", ["1", "2"])
def test_a_row_past_the_item_time_limit_is_counted_naming_it(tmp_path, bagel, num_proc):
    result = _run(
        bagel,
        tmp_path,
        "--sources",
        "hostile,toy-high",
        "--item-time-limit",
        "1",
        "--num-proc",
        num_proc,
        BAGEL_TEST_HANG="2:busy",
    )
    assert result.returncode == 0, result.stderr
    hostile = publish.read_json(tmp_path / "o" / MANIFEST)["sources"]["hostile"]
    assert hostile["loaded"] == len(ROWS) - 1 and hostile["rejected"] == {"time limit": 1}
    example = hostile["rejected_examples"]["time limit"]
    assert example["at"] == "row 2" and "'n': 2" in example["row"]
    assert "warning" not in result.stderr  # one row of six: counted, not alarming


def test_a_reader_past_the_item_time_limit_is_an_error_naming_it(tmp_path):
    from bagel_core.stages.load import Limits, LoadError, LoadTask, run_load

    task = LoadTask(
        _SlowReader,
        _SlowReader.Options(),
        42,
        None,
        False,
        tmp_path / "shard.parquet",
        limits=Limits(item_time_limit=0.5),
    )
    with pytest.raises(
        LoadError,
        match=r"source 'slow-reader' \(test_faults_input\) took longer than item_time_limit = 0.5s reading its rows \(after row 1\)",
    ):
        run_load(task)


class _SlowReader(Source):
    name = "slow-reader"
    description = "two rows, then a reader that never yields the third"

    def rows(self, ctx):
        yield {"q": "One?", "a": "1"}
        yield {"q": "Two?", "a": "2"}
        while True:
            pass

    def convert(self, row, ctx):
        return as_conversation("slow-reader", row["q"], row["a"])


# --- case 10: huge items, too many workers -------------------------------------------------


def test_items_past_the_turn_and_size_limits_are_counted_and_the_limits_are_options(tmp_path, bagel, monkeypatch):
    turns = [{"from": "human" if i % 2 == 0 else "gpt", "value": f"turn {i}"} for i in range(1_000)]
    data = write_jsonl(tmp_path / "long.jsonl", [{"conversations": turns}, {"conversations": turns[:2]}])
    book = write_jsonl(tmp_path / "book.jsonl", [{"text": "x" * 1_000_001}])
    base = [
        "run",
        "--sources",
        "local",
        "--dpo",
        "none",
        "--formats",
        "vicuna",
        "--decontaminate",
        "none",
        "-q",
        "-o",
        f'source.local.paths=["{data}", "{book}"]',
        "--out",
        str(tmp_path / "o"),
    ]
    result = bagel(*base)
    assert result.returncode == 0, result.stderr
    local = publish.read_json(tmp_path / "o" / MANIFEST)["sources"]["local"]
    assert local["loaded"] == 1 and local["rejected"] == {"too many turns": 1, "too long": 1}
    assert local["rejected_examples"]["too many turns"]["at"] == f"{data} line 1"
    raised = bagel(*base, "-o", "source.local.max_turns=none", "-o", "source.local.max_chars=2000000")
    assert raised.returncode == 0, raised.stderr
    local = publish.read_json(tmp_path / "o" / MANIFEST)["sources"]["local"]
    assert local["loaded"] == 3 and not local["rejected"]
    bad = bagel(*base, "-o", "source.local.max_turns=0")
    assert_one_line_error(bad, "max_turns")


def test_num_proc_is_capped_by_the_usable_cores_with_a_warning(tmp_path, bagel):
    from bagel_core.processes import cores

    result = bagel(
        "run",
        "--data-root",
        bagel.root,
        "--sources",
        "toy-high,hostile",
        "--dpo",
        "none",
        "--formats",
        "vicuna",
        "--decontaminate",
        "none",
        "-q",
        "--num-proc",
        str(cores() + 46),
        "--out",
        str(tmp_path / "o"),
    )
    assert result.returncode == 0, result.stderr
    warnings = [line for line in result.stderr.splitlines() if line.startswith("warning: ")]
    assert warnings == [
        f"warning: --num-proc {cores() + 46} lowered to {cores()}: this process may use {cores()} CPU core(s)"
    ]


def test_workers_started_are_at_most_the_pending_loads(tmp_path, root):
    """Two sources with --num-proc 2 (the most the cap allows on a 2-core machine): two workers,
    never more; a cap of the cores is not the only bound."""
    args = [
        "run",
        "--data-root",
        str(root),
        *HOSTILE,
        "--sources",
        "hostile,toy-high",
        "--num-proc",
        "2",
        "--out",
        str(tmp_path / "o"),
    ]
    proc = subprocess.Popen(
        [sys.executable, "-m", "bagel_core", *args],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        cwd=tmp_path,
        env=_env(tmp_path, BAGEL_TEST_HANG="2"),
    )
    try:
        _wait_for(lambda: len(_children(proc.pid)) >= 2, proc)
        time.sleep(2.0)
        assert len(_children(proc.pid)) == 2
    finally:
        proc.send_signal(signal.SIGTERM)
        proc.communicate(timeout=60)


WRONG_TYPES = (["x"], 3, {"a": 1}, None, True)


def _wrong_typed(row: dict):
    """``(field, row)`` for every top-level field of ``row`` (and every key of the first object
    of a list of objects) set to each of :data:`WRONG_TYPES`."""
    import copy

    for key, value in row.items():
        for wrong in WRONG_TYPES:
            yield key, {**row, key: wrong}
        if isinstance(value, list) and value and isinstance(value[0], dict):
            for inner in value[0]:
                for wrong in WRONG_TYPES:
                    changed = copy.deepcopy(row)
                    changed[key][0][inner] = wrong
                    yield f"{key}[0].{inner}", changed


def test_wrong_types_in_any_builtin_loaders_rows_are_bad_data_not_a_plugin_bug():
    """Every built-in source and DPO builder that converts rows, on the first rows of its
    shipped sample with each field set to a list, a number, an object, null or a bool: counted
    (or filtered), never a RowFailure blaming the plugin."""
    import itertools

    from bagel_core.config import make_options
    from bagel_core.context import LoadContext
    from bagel_core.data import DataAccess
    from bagel_core.readers import RowFailure
    from bagel_core.registry import current

    failures, tried = [], 0
    for kind in ("source", "dpo_builder"):
        for name, info in sorted(current().of(kind).items()):
            cls = info.cls
            if cls.overrides("load") or info.plugin.distribution not in ("bagel-sources-builtin", "bagel-dpo-builtin"):
                continue
            options = make_options(cls, {})
            ctx = LoadContext(name, 42, DataAccess.for_component(cls, sample=True), options)
            component = cls(options)
            component.setup(ctx)
            for row in itertools.islice(ctx.iter_rows(component.rows(ctx)), 2):
                for key, changed in _wrong_typed(row if isinstance(row, dict) else {}):
                    tried += 1
                    try:
                        ctx.convert_row(component.convert, changed)
                    except RowFailure as exc:
                        failures.append(f"{name}: {key} -> {type(exc.__cause__).__name__}: {exc.__cause__}")
    assert tried > 1000 and not failures, "\n".join(failures)


def test_a_spilled_render_writes_the_same_rows(tmp_path, monkeypatch):
    """Rendered text past SPILL_CHARS goes through a scratch file in parts: same output, same
    counts, no scratch file left."""
    import pyarrow as pa
    import pyarrow.parquet as pq

    from bagel_core.registry import current
    from bagel_core.stages import DPO_WORK_SCHEMA, SFT_WORK_SCHEMA, render
    from bagel_core.storage import ParquetSink

    turns = [{"from": "human" if i % 2 == 0 else "gpt", "value": f"turn {i} of a long chat"} for i in range(60)]
    rows = [
        {"id": f"item-{k}", "source": "s", "origin": "o", "conversations": turns[: 2 * (k % 30) + 2], "text": None}
        for k in range(40)
    ]
    inputs = tmp_path / "in"
    inputs.mkdir()
    pq.write_table(pa.Table.from_pylist(rows, schema=SFT_WORK_SCHEMA), inputs / "sft.parquet", row_group_size=15)
    pq.write_table(DPO_WORK_SCHEMA.empty_table(), inputs / "dpo.parquet")
    formats = [current().get("format", name).cls for name in ("vicuna", "chatml")]

    def rendered(name: str) -> tuple:
        out = tmp_path / name
        out.mkdir()
        counts = render.run_render([f(f.Options()) for f in formats], 42, None, inputs, out)
        return pq.read_table(out / "sft.parquet"), counts, sorted(p.name for p in out.iterdir())

    whole = rendered("whole")
    monkeypatch.setattr(render, "SPILL_CHARS", 5_000)
    sinks = []
    monkeypatch.setattr(
        render, "ParquetSink", lambda path, *a, **k: sinks.append(path.name) or ParquetSink(path, *a, **k)
    )
    spilled = rendered("spilled")
    assert {".sft-0.spill.parquet", ".sft-1.spill.parquet", ".sft-2.spill.parquet"} <= set(sinks)
    assert (
        spilled[0].equals(whole[0])
        and spilled[1] == whole[1]
        and spilled[2] == whole[2] == ["dpo.parquet", "sft.parquet"]
    )
    assert whole[0].num_rows == 2 * sum(k % 30 + 1 for k in range(40))
