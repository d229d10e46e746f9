"""Local JSON-array files are read element by element (bounded memory), with the same rows."""

import io
import json

import pytest

from bagel_core.data import DataAccess
from bagel_core.json_arrays import as_json_lines, is_json_array, iter_json_array

CASES = [
    [],
    [1, 2.5, -3e10, "x", None, True, [], {}],
    [{"instruction": "Solve 2 + 2." * 300, "output": "4", "nested": [1, {"c": "],["}]} for _ in range(40)],
    [12345678901234567890, 7],
    ["ünïcødé ✓ \u2028 line"],
]


@pytest.mark.parametrize("case", CASES)
@pytest.mark.parametrize("chunk", [1, 2, 3, 7, 64, 1 << 20])
def test_elements_for_any_chunk_size(case, chunk):
    for indent in (None, 2):
        text = json.dumps(case, indent=indent, ensure_ascii=False)
        assert list(iter_json_array(io.StringIO(text), chunk=chunk)) == case


@pytest.mark.parametrize("bad", ["[1, 2", "{}", "[1 2]", '["a"', ""])
def test_malformed_arrays_raise(bad):
    with pytest.raises(ValueError):
        list(iter_json_array(io.StringIO(bad), chunk=2))


def test_data_access_reads_a_json_array_through_a_json_lines_copy(tmp_path, monkeypatch):
    import datasets

    monkeypatch.setattr(datasets.config, "HF_DATASETS_CACHE", str(tmp_path / "cache"))
    rows = [{"source": f"s{i % 3}", "instruction": f"What is {i} + {i}?", "output": str(2 * i)} for i in range(500)]
    folder = tmp_path / "root" / "TIGER-Lab" / "MathInstruct"
    folder.mkdir(parents=True)
    (folder / "MathInstruct.json").write_text(json.dumps(rows, indent=1))
    (folder / "other.jsonl").write_text("".join(json.dumps(r) + "\n" for r in rows[:3]))
    assert is_json_array(folder / "MathInstruct.json") and not is_json_array(folder / "other.jsonl")
    loaded = DataAccess(tmp_path / "root").load_dataset(
        "TIGER-Lab/MathInstruct", data_files={"train": "MathInstruct.json"}
    )
    assert loaded.to_list() == rows
    copies = list((tmp_path / "cache" / "bagel-json-lines").glob("*.jsonl"))
    assert len(copies) == 1
    mtime = copies[0].stat().st_mtime_ns
    both = DataAccess(tmp_path / "root").load_dataset(
        "TIGER-Lab/MathInstruct", data_files={"train": ["MathInstruct.json", "other.jsonl"]}
    )
    assert len(both) == 503 and copies[0].stat().st_mtime_ns == mtime  # the copy is made once
    (folder / "MathInstruct.json").write_text(json.dumps(rows[:10]))
    assert (
        len(
            DataAccess(tmp_path / "root").load_dataset(
                "TIGER-Lab/MathInstruct", data_files={"train": "MathInstruct.json"}
            )
        )
        == 10
    )
    assert (
        as_json_lines(folder / "MathInstruct.json", tmp_path / "cache" / "bagel-json-lines").read_text().count("\n")
        == 10
    )
