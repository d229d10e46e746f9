"""The `local` source: a user's own JSONL/JSON/parquet files in the four common shapes."""

import json
from pathlib import Path

import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from bagel_core import ConfigError, uid, validate_record
from bagel_core.testing import invoke_cli, load_sample
from bagel_sources_builtin.local_files import LocalFiles

STEAK = [
    {"from": "system", "value": "You are a patient cooking teacher."},
    {"from": "human", "value": "How long should I rest a steak after cooking it?"},
    {"from": "gpt", "value": "About five minutes for a thin steak and up to ten for a thick one."},
    {"from": "human", "value": "Why does resting matter?"},
    {"from": "gpt", "value": "The juices redistribute, so less of them run out when you cut it."},
]


def write_jsonl(path: Path, rows: list) -> Path:
    path.write_text("".join((row if isinstance(row, str) else json.dumps(row)) + "\n" for row in rows))
    return path


def load(sample: bool = False, **options):
    return load_sample(LocalFiles, options, sample=sample)


@pytest.fixture
def sharegpt(tmp_path) -> Path:
    return write_jsonl(
        tmp_path / "chats.jsonl",
        [
            {"id": "a1", "conversations": STEAK},
            # role names of the OpenAI shape are accepted too
            {
                "conversations": [
                    {"from": "user", "value": "Name three primary colours of light."},
                    {"from": "assistant", "value": "Red, green and blue."},
                ]
            },
            '{"conversations": [{"from": "human", "value": "truncated li',
            {"conversations": [{"from": "bot", "value": "hi"}, {"from": "gpt", "value": "hello"}]},
            {"conversations": "human: hi\ngpt: hello"},
            {"conversations": [{"from": "human", "value": "Is this the end?"}]},
            {"conversations": [{"from": "human", "value": "   "}, {"from": "gpt", "value": "Nothing was asked."}]},
            {"dialogue": []},
            "",
        ],
    )


def test_sharegpt_rows_and_broken_rows(sharegpt):
    records, counts = load(paths=[str(sharegpt)])
    assert records == [
        {
            "id": uid("How long should I rest a steak after cooking it?\nWhy does resting matter?"),
            "source": "local",
            "conversations": STEAK,
        },
        {
            "id": uid("Name three primary colours of light."),
            "source": "local",
            "conversations": [
                {"from": "human", "value": "Name three primary colours of light."},
                {"from": "gpt", "value": "Red, green and blue."},
            ],
        },
    ]
    assert dict(counts.rejected) == {
        "invalid JSON": 1,
        "unknown role 'bot'": 1,
        "turns are not a list": 1,
        "no assistant turn": 1,
        "empty text": 1,
        "missing field 'conversations'": 1,
    }


def test_messages_json_with_label(tmp_path):
    path = tmp_path / "export.json"
    path.write_text(
        json.dumps(
            [
                {
                    "messages": [
                        {"role": "system", "content": "Answer in one word."},
                        {"role": "user", "content": "What is the capital of Italy?"},
                        {"role": "assistant", "content": "Rome."},
                    ]
                },
                {
                    "messages": [
                        {"role": "user", "content": "What's the weather in Oslo?"},
                        {"role": "tool", "content": '{"temp_c": 3}'},
                        {"role": "assistant", "content": "It is 3 °C."},
                    ]
                },
                {"messages": [{"role": "user", "content": "Call the API."}, {"role": "assistant", "content": None}]},
                "not a row",
            ]
        )
    )
    records, counts = load(paths=[str(path)], label="support-chats")
    assert records == [
        {
            "id": uid("What is the capital of Italy?"),
            "source": "support-chats",
            "conversations": [
                {"from": "system", "value": "Answer in one word."},
                {"from": "human", "value": "What is the capital of Italy?"},
                {"from": "gpt", "value": "Rome."},
            ],
        }
    ]
    assert dict(counts.rejected) == {"unknown role 'tool'": 1, "missing field": 1, "row is not an object": 1}


def test_alpaca_parquet_and_json_lines_in_a_json_file(tmp_path):
    pq.write_table(
        pa.Table.from_pylist(
            [
                {
                    "instruction": "Summarize the text in one sentence.",
                    "input": "The library closes early on Friday for staff training.",
                    "output": "The library closes early Friday.",
                },
                {"instruction": "Give an antonym of 'generous'.", "input": "", "output": "Stingy."},
                {"instruction": "Give a synonym of 'quick'.", "input": None, "output": "Fast."},
                {"instruction": "Say nothing.", "input": "", "output": ""},
            ]
        ),
        tmp_path / "alpaca.parquet",
    )
    # Many ".json" exports are really JSON Lines.
    write_jsonl(
        tmp_path / "more.json",
        [
            {"instruction": 42, "input": "", "output": "forty-two"},
            {"instruction": "Spell 'cat' backwards.", "output": "tac"},
            {"input": "orphan", "output": "no instruction"},
        ],
    )
    records, counts = load(paths=[str(tmp_path / "alpaca.parquet"), str(tmp_path / "more.json")], shape="alpaca")
    instructions = [r["conversations"][0]["value"] for r in records]
    assert instructions == [
        "Summarize the text in one sentence.\n\nThe library closes early on Friday for staff training.",
        "Give an antonym of 'generous'.",
        "Give a synonym of 'quick'.",
        "Spell 'cat' backwards.",
    ]
    assert records[0]["id"] == uid(instructions[0])
    assert records[0]["conversations"][1] == {"from": "gpt", "value": "The library closes early Friday."}
    assert dict(counts.rejected) == {
        "empty text": 1,
        "instruction or input is not a string": 1,
        "missing field 'instruction'": 1,
    }


def test_plain_text_and_detection_per_file(tmp_path, sharegpt):
    write_jsonl(
        tmp_path / "book.jsonl",
        [
            {"text": "Chapter 1\n\nThe lighthouse keeper climbed the stairs at dusk."},
            {"text": None},
            {"text": ""},
        ],
    )
    records, counts = load(paths=[str(tmp_path / "*.jsonl")])
    # Files in glob order: book.jsonl (text), chats.jsonl (sharegpt).
    assert records[0] == {
        "id": uid("Chapter 1\n\nThe lighthouse keeper climbed the stairs at dusk."),
        "source": "local",
        "text": "Chapter 1\n\nThe lighthouse keeper climbed the stairs at dusk.",
    }
    assert [r["conversations"][-1]["value"] for r in records[1:]] == [STEAK[-1]["value"], "Red, green and blue."]
    assert counts.rejected["text is not a string"] == 1 and counts.rejected["empty text"] == 2
    # A given shape overrides detection: as text, the chat rows have no "text" column.
    _, counts = load(paths=[str(sharegpt)], shape="text")
    assert counts.rejected["missing field 'text'"] == 7


def test_errors_name_the_path_and_the_option(tmp_path):
    write_jsonl(tmp_path / "ok.jsonl", [{"text": "fine"}])
    with pytest.raises(FileNotFoundError, match=r"no file matches 'missing/\*\.jsonl' \(option paths"):
        load(paths=[str(tmp_path / "ok.jsonl"), "missing/*.jsonl"])
    with pytest.raises(FileNotFoundError, match="nope.parquet"):
        load(paths=[str(tmp_path / "nope.parquet")])
    odd = write_jsonl(tmp_path / "odd.jsonl", [{"question": "?", "answer": "!"}])
    with pytest.raises(
        ValueError, match=r"cannot tell the shape of .*odd.jsonl from its columns \['answer', 'question'\]"
    ):
        load(paths=[str(odd)])
    with pytest.raises(ConfigError, match=r"shape = 'csv' is not allowed; expected one of 'auto', 'sharegpt'"):
        load(paths=[str(odd)], shape="csv")
    (tmp_path / "data.csv").write_text("a,b\n")
    with pytest.raises(ValueError, match="unsupported file type '.csv'"):
        load(paths=[str(tmp_path / "data.csv")])


def test_sample_reads_one_example_of_each_shape():
    records, counts = load(sample=True)
    assert all(validate_record(r) is None for r in records)
    assert sum("text" in r for r in records) == 1 and len(records) == 7
    assert dict(counts.rejected) == {"unknown role 'tool'": 1}
    assert load(sample=False)[0] == []  # no paths, no sample: nothing


def test_bagel_run_with_a_recipe(tmp_path, sharegpt):
    alpaca = write_jsonl(
        tmp_path / "alpaca.jsonl", [{"instruction": "Spell 'cat' backwards.", "input": "", "output": "tac"}]
    )
    recipe = tmp_path / "mine.toml"
    recipe.write_text(
        f'[source.local]\npaths = [{json.dumps(str(sharegpt))}, {json.dumps(str(alpaca))}]\nlabel = "mine"\npriority = 5\n'
        "[format.vicuna]\nsystem_prompt_probability = 0.0\n"
    )
    out = tmp_path / "out"
    args = [
        "run",
        "--recipe",
        str(recipe),
        "--sources",
        "local",
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
    result = invoke_cli(*args)
    assert result.exit_code == 0, result.output
    manifest = json.loads((out / "manifest.json").read_text())
    local = manifest["sources"]["local"]
    assert local["priority"] == 5 and local["loaded"] == 3 and sum(local["rejected"].values()) == 6
    sft = pq.read_table(out / "sft.parquet").to_pylist()
    # One row per assistant turn: 2 for the steak conversation, 1 each for the others.
    # vicuna: each completion begins with the space its prompt ends with (the token boundary).
    assert sorted(r["completion"] for r in sft) == sorted(
        " " + a for a in [STEAK[2]["value"], STEAK[4]["value"], "Red, green and blue.", "tac"]
    )
    assert {r["source"] for r in sft} == {"mine"} and {r["format"] for r in sft} == {"vicuna"}
    assert any("Spell 'cat' backwards." in r["prompt"] for r in sft)

    recipe.write_text('[source.local]\npaths = ["no/such/file.jsonl"]\n')
    bad = invoke_cli(*args)
    assert bad.exit_code != 0 and "no file matches 'no/such/file.jsonl'" in bad.output


def test_an_edited_file_is_loaded_again(tmp_path):
    data = write_jsonl(tmp_path / "notes.jsonl", [{"text": "first version"}])
    recipe = tmp_path / "r.toml"
    recipe.write_text(f"[source.local]\npaths = [{json.dumps(str(tmp_path / '*.jsonl'))}]\n")
    args = [
        "run",
        "--recipe",
        str(recipe),
        "--sources",
        "local",
        "--dpo",
        "none",
        "--formats",
        "vicuna",
        "--decontaminate",
        "none",
        "--out",
        str(tmp_path / "out"),
        "-q",
    ]
    assert invoke_cli(*args).exit_code == 0
    write_jsonl(data, [{"text": "second version"}, {"text": "and more"}])
    assert invoke_cli(*args).exit_code == 0
    sft = pq.read_table(tmp_path / "out" / "sft.parquet").to_pylist()
    assert sorted(r["completion"] for r in sft) == ["and more", "second version"]
