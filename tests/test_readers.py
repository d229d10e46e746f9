"""bagel_core.readers: bad lines and bad rows are counted with where they were; bugs are not."""

import json

import pytest

from bagel_core import LoadContext, MalformedFile, RowError, RowFailure, Source, as_conversation, json_lines, json_rows
from bagel_core.data import DataAccess
from bagel_core.readers import field, integer, items, number, optional_text, text, texts, turns
from bagel_core.stages.load import LoadError, LoadSettings, LoadTask, run_load


def ctx(name="test"):
    return LoadContext(name, 42, DataAccess())


def test_json_lines_count_each_kind_of_bad_line_with_file_and_line(tmp_path):
    path = tmp_path / "rows.jsonl"
    path.write_bytes(
        b'{"q": "one"}\n'
        b"\n"  # blank: skipped, not counted
        b'{"q": "caf\xe9"}\n'  # latin-1, not UTF-8
        b"{not json}\n"
        b'{"q": "two"}\n'
        b'{"q": "thr'  # cut short: the last line, no newline
    )
    c = ctx()
    assert list(json_lines(path, c)) == [{"q": "one"}, {"q": "two"}]
    assert c.counts.rejected == {"invalid UTF-8": 1, "invalid JSON": 1, "truncated line": 1}
    assert c.counts.examples["invalid UTF-8"]["at"] == f"{path} line 3"
    assert c.counts.examples["invalid JSON"] == {"at": f"{path} line 4", "row": "{not json}"}
    assert c.counts.examples["truncated line"]["at"] == f"{path} line 6"


def test_empty_file_is_malformed_not_unavailable(tmp_path):
    for content in (b"", b"\n  \n"):
        path = tmp_path / "empty.jsonl"
        path.write_bytes(content)
        with pytest.raises(MalformedFile, match=r"empty.jsonl: present but malformed: the file is empty"):
            list(json_lines(path, ctx()))


def test_json_rows_streams_arrays_and_reads_json_lines(tmp_path):
    array = tmp_path / "a.json"
    array.write_text(json.dumps([{"q": i} for i in range(5)], indent=1))
    c = ctx()
    assert [r["q"] for r in json_rows(array, c)] == [0, 1, 2, 3, 4] and c.where() == f"{array} element 4"
    lines = tmp_path / "l.json"
    lines.write_text('{"q": 1}\n{"q": 2}\n')
    assert list(json_rows(lines, ctx())) == [{"q": 1}, {"q": 2}]
    broken = tmp_path / "b.json"
    broken.write_text('[{"q": 1}, {"q": ')
    with pytest.raises(MalformedFile, match="b.json: present but malformed: not a valid JSON array"):
        list(json_rows(broken, ctx()))


def test_field_readers_say_missing_field_for_missing_and_null():
    row = {"a": "x", "n": None, "i": 3, "b": True, "f": 2.5, "l": ["p", "q"], "mixed": ["p", 1]}
    for read in (field, text, texts, integer, number, items):
        for key in ("absent", "n"):
            with pytest.raises(RowError) as info:
                read(row, key)
            assert info.value.reason == f"missing field {key!r}"
            assert isinstance(info.value, KeyError)  # code catching KeyError still works
    assert (text(row, "a"), integer(row, "i"), number(row, "f"), texts(row, "l")) == ("x", 3, 2.5, ["p", "q"])
    assert optional_text(row, "n") is None and optional_text(row, "absent") is None
    for read, key in (
        (text, "i"),
        (integer, "b"),
        (integer, "f"),
        (number, "a"),
        (texts, "mixed"),
        (items, "a"),
        (field, None),
    ):
        with pytest.raises(RowError) as info:
            read(row if key else "not a row", key or "a")
        assert info.value.reason == "wrong type"
    assert turns({"c": [{"from": "human", "value": "hi", "weight": 0}]}, "c") == [{"from": "human", "value": "hi"}]


class Buggy(Source):
    name = "buggy"
    description = "raises what its rows make it raise"

    def rows(self, ctx):
        return [
            {"q": "fine", "a": "yes"},
            {"q": None, "a": "x"},
            {"q": "k"},
            {"q": "v", "a": "bad"},
            {"q": "bug", "a": "x"},
        ]

    def convert(self, row, ctx):
        if row["a"] == "bad":
            raise RowError("bad answer", "the answer is 'bad'")
        if row["q"] == "bug":
            return None.strip()  # a plugin bug: AttributeError
        return as_conversation("buggy", text(row, "q"), row["a"])


def test_bad_data_is_counted_and_a_bug_stops_with_component_and_row():
    c = ctx("buggy")
    with pytest.raises(RowFailure) as info:
        list(Buggy().load(c))
    message = str(info.value)
    # rows() is a plain list: the row is named by its index (a dataset's also by its id).
    assert message.startswith(
        "failed on row 4 ({'q': 'bug', 'a': 'x'}): AttributeError: 'NoneType' object has no attribute 'strip'"
    )
    assert "--debug" in message
    assert c.counts.rejected == {"missing field 'q'": 1, "missing field 'a'": 1, "bad answer": 1}
    assert c.counts.examples["bad answer"] == {
        "at": "row 3",
        "row": "{'q': 'v', 'a': 'bad'}",
        "detail": "the answer is 'bad'",
    }


def test_guard_in_a_load_override_counts_data_and_raises_bugs():
    c = ctx()

    def load(rows):
        for row in rows:
            with c.guard(row):
                yield integer(row, "n") * 2

    assert list(load([{"n": 1}, {"n": "2"}, {}, {"n": 4}])) == [2, 8]
    assert c.counts.rejected == {"wrong type": 1, "missing field 'n'": 1}
    with pytest.raises(RowFailure, match="ZeroDivisionError"):
        for row in [{"n": 1}]:
            with c.guard(row):
                1 / 0


def test_a_bug_in_a_run_names_plugin_component_and_row(tmp_path):
    task = LoadTask(Buggy, Buggy.Options(), LoadSettings(42), tmp_path / "shard.parquet")
    with pytest.raises(LoadError) as info:
        run_load(task)
    assert str(info.value).startswith(f"source 'buggy' ({__name__}) failed on row 4 ({{'q': 'bug'")
    assert not task.shard.exists()


class AllRejected(Source):
    name = "all-rejected"
    description = "a file without the column it needs"

    def rows(self, ctx):
        return [{"question": f"q{i}"} for i in range(3)]

    def convert(self, row, ctx):
        return as_conversation("x", text(row, "q"), text(row, "a"))


def test_every_row_rejected_is_an_error_not_an_empty_success(tmp_path):
    task = LoadTask(AllRejected, AllRejected.Options(), LoadSettings(42), tmp_path / "shard.parquet")
    with pytest.raises(
        LoadError,
        match=r"source 'all-rejected' .*every row was rejected \(3 rows; 3 for \"missing field 'q'\"; first at row 0\)",
    ):
        run_load(task)
    assert not task.shard.exists()  # no shard kept: a rerun tries again


def test_plugin_guide_load_example_counts_bad_lines_and_rows(tmp_path):
    from test_docs import _components

    cls = _components()["my-rated"]
    rows = [
        {"prompt": "Name a colour.", "score": 3, "answer": "Blue."},
        {"prompt": "Name a colour.", "score": 1, "answer": "Dunno."},
        {"prompt": "Name a shape.", "score": 2, "answer": "A circle."},
        {"score": 2, "answer": "no prompt"},
    ]
    folder = tmp_path / "me" / "rated"
    folder.mkdir(parents=True)
    (folder / "rated.jsonl").write_text("".join(json.dumps(r) + "\n" for r in rows) + "{oops\n")
    c = LoadContext("my-rated", 42, DataAccess(tmp_path))
    pairs = list(cls().load(c))
    assert [(p["prompt"], p["chosen"], p["rejected"]) for p in pairs] == [("Name a colour.", "Blue.", "Dunno.")]
    assert c.counts.rejected == {"missing field 'prompt'": 1, "invalid JSON": 1}
    assert c.counts.filtered == {"single answer": 1}


def test_csv_rows_skip_lines_that_are_not_utf8_and_keep_multiline_cells(tmp_path):
    from bagel_core.readers import csv_rows

    path = tmp_path / "e.csv"
    path.write_bytes(b'id,text\n1,"two\nlines"\n2,caf\xe9\n3,fine\n')
    c = ctx()
    assert list(csv_rows(path, c)) == [{"id": "1", "text": "two\nlines"}, {"id": "3", "text": "fine"}]
    assert c.counts.rejected == {"invalid UTF-8": 1} and c.counts.examples["invalid UTF-8"]["at"] == f"{path} line 4"
    assert c.where() == f"{path} line 5"
    (tmp_path / "empty.csv").write_bytes(b"")
    with pytest.raises(MalformedFile, match="empty.csv: present but malformed: the file is empty"):
        list(csv_rows(tmp_path / "empty.csv", ctx()))
