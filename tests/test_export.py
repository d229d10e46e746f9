"""``bagel export axolotl|llama-factory``: the files those trainers read the output with.

Neither tool installs here without replacing torch and transformers (``pip install --dry-run``
upgrades both), so the files are checked against their documented schema: the fields of
axolotl 0.19.0's ``SFTDataset``/``DPODataset``/``UserDefined*Type`` models and LLaMA-Factory
0.9.5's ``DatasetAttr``, and their loaders' rules (a ``.parquet`` path is read with
``load_dataset("parquet", data_files=path, split="train")``; LLaMA-Factory's sharegpt converter
skips a conversation unless, after an optional leading system message, user and assistant
alternate and the assistant answers last). The tests at the end also validate with the tools'
own code, which scripts/setup.sh installs beside the environment without their dependencies.
"""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pyarrow.parquet as pq
import pytest
import yaml
from engine_fixtures import REPO, tool_code

from bagel_core.config import RunConfig
from bagel_core.export import ExportError, axolotl_configs, export, llama_factory_entries
from bagel_core.pipeline import run
from bagel_core.registry import load_plugins

# axolotl 0.19.0, src/axolotl/utils/schemas/datasets.py (fields used by bagel's configs).
AXOLOTL_SFT_FIELDS = {
    "path",
    "split",
    "type",
    "name",
    "data_files",
    "ds_type",
    "field_messages",
    "message_property_mappings",
    "roles_to_train",
    "chat_template",
    "roles",
}
AXOLOTL_USER_DEFINED_SFT = {
    "system_prompt",
    "system_format",
    "field_system",
    "field_instruction",
    "field_input",
    "field_output",
    "format",
    "no_input_format",
}
AXOLOTL_DPO_FIELDS = {
    "path",
    "split",
    "type",
    "data_files",
    "revision",
    "field_messages",
    "field_chosen",
    "field_rejected",
}
AXOLOTL_USER_DEFINED_DPO = {
    "field_system",
    "field_prompt",
    "field_chosen",
    "field_rejected",
    "prompt_format",
    "chosen_format",
    "rejected_format",
}
#: axolotl's default roles mapping (``roles``): source roles it understands.
AXOLOTL_ROLES = {"user", "human", "assistant", "gpt", "system", "tool"}
# LLaMA-Factory 0.9.5, src/llamafactory/data/parser.py.
LF_ENTRY = {
    "file_name",
    "hf_hub_url",
    "ms_hub_url",
    "om_hub_url",
    "script_url",
    "cloud_file_name",
    "formatting",
    "ranking",
    "subset",
    "split",
    "folder",
    "num_samples",
    "columns",
    "tags",
}
LF_COLUMNS = {
    "prompt",
    "query",
    "response",
    "history",
    "messages",
    "system",
    "tools",
    "images",
    "videos",
    "audios",
    "chosen",
    "rejected",
    "kto_tag",
}
LF_TAGS = {"role_tag", "content_tag", "user_tag", "assistant_tag", "observation_tag", "function_tag", "system_tag"}
LF_FILE_TYPES = {"arrow", "csv", "json", "jsonl", "parquet", "txt"}


@pytest.fixture(scope="module")
def out(tmp_path_factory) -> Path:
    folder = tmp_path_factory.mktemp("export") / "out"
    run(
        RunConfig(
            out=folder,
            sources="local,capybara,airoboros,gutenberg",
            dpo="truthy-dpo,helpsteer",
            formats="all",
            decontaminate="none",
            sample=True,
        ),
        load_plugins(),
    )
    return folder


def _read(path: str, tmp_path: Path):
    import datasets

    # What both tools do for a local .parquet file.
    return datasets.load_dataset("parquet", data_files=path, split="train", cache_dir=str(tmp_path / "hf"))


def test_axolotl_configs_match_its_schema_and_read_the_files(out, tmp_path):
    paths = export("axolotl", out)
    assert sorted(p.name for p in paths) == ["dpo.yaml", "sft-rendered.yaml", "sft.yaml"]
    configs = {p.name: yaml.safe_load(p.read_text()) for p in paths}

    (chat,) = configs["sft.yaml"]["datasets"]
    assert set(chat) <= AXOLOTL_SFT_FIELDS and chat["type"] == "chat_template"
    # Relative to the folder holding the output, where axolotl runs (it opens paths from its cwd).
    assert not Path(chat["path"]).is_absolute()
    rows = _read(str(out.parent / chat["path"]), tmp_path)
    mapping = chat["message_property_mappings"]
    roles = {m[mapping["role"]] for r in rows[chat["field_messages"]] for m in r}
    assert roles <= AXOLOTL_ROLES and "assistant" in roles
    assert all(isinstance(m[mapping["content"]], str) for r in rows[chat["field_messages"]] for m in r)

    rendered = configs["sft-rendered.yaml"]
    assert rendered["train_on_inputs"] is False
    (sft,) = rendered["datasets"]
    assert set(sft) <= AXOLOTL_SFT_FIELDS and set(sft["type"]) <= AXOLOTL_USER_DEFINED_SFT
    rows = _read(str(out.parent / sft["path"]), tmp_path)
    t = sft["type"]
    assert t["field_instruction"] in rows.column_names and t["field_output"] in rows.column_names
    # No such column: axolotl's input is then empty, and the prompt is bagel's prompt unchanged:
    # the columns trl reads, cut on a token boundary, with the rendered text of input + output.
    assert t["field_input"] not in rows.column_names
    for row in rows:
        assert t["no_input_format"].format(instruction=row[t["field_instruction"]]) == row["prompt"]

    dpo = configs["dpo.yaml"]
    assert dpo["rl"] == "dpo"
    (pairs,) = dpo["datasets"]
    assert set(pairs) <= AXOLOTL_DPO_FIELDS and set(pairs["type"]) <= AXOLOTL_USER_DEFINED_DPO
    rows = _read(str(out.parent / pairs["path"]), tmp_path)
    t = pairs["type"]
    for row in rows:
        assert t["prompt_format"].format(prompt=row[t["field_prompt"]]) == row["prompt"]
        assert t["chosen_format"].format(chosen=row[t["field_chosen"]]) == row["chosen"]
        assert t["rejected_format"].format(rejected=row[t["field_rejected"]]) == row["rejected"]


def _sharegpt_accepts(messages: list[dict], tags: dict) -> bool:
    """LLaMA-Factory's SharegptDatasetConverter rule for one conversation."""
    if messages and messages[0][tags["role_tag"]] == tags["system_tag"]:
        messages = messages[1:]
    expected = (tags["user_tag"], tags["assistant_tag"])
    if any(m[tags["role_tag"]] != expected[i % 2] for i, m in enumerate(messages)):
        return False
    return len(messages) % 2 == 0 and len(messages) > 0


def test_llama_factory_entries_match_its_schema_and_read_the_files(out, tmp_path):
    path, *copies = export("llama-factory", out)
    assert path == out / "llama-factory" / "dataset_info.json"
    assert copies == [out / "llama-factory" / "bagel_sft.parquet", out / "llama-factory" / "bagel_dpo.parquet"]
    entries = json.loads(path.read_text())
    assert set(entries) == {"bagel_conversations", "bagel_sft", "bagel_dpo"}
    for name, entry in entries.items():
        assert set(entry) <= LF_ENTRY and set(entry["columns"]) <= LF_COLUMNS, name
        assert set(entry.get("tags", {})) <= LF_TAGS and entry["formatting"] in ("alpaca", "sharegpt", "openai"), name
        # LLaMA-Factory joins dataset_dir and file_name: relative to the dataset_info.json's folder.
        assert not Path(entry["file_name"]).is_absolute() and Path(entry["file_name"]).suffix[1:] in LF_FILE_TYPES
        rows = _read(str(path.parent / entry["file_name"]), tmp_path)
        assert set(entry["columns"].values()) <= set(rows.column_names), name
    conv = entries["bagel_conversations"]
    rows = _read(str(path.parent / conv["file_name"]), tmp_path)[conv["columns"]["messages"]]
    assert all(_sharegpt_accepts(m, conv["tags"]) for m in rows)  # nothing would be skipped
    assert any(m[0]["role"] == "system" for m in rows) and any(len(m) > 3 for m in rows)
    assert entries["bagel_dpo"]["ranking"] is True and "ranking" not in entries["bagel_sft"]
    # LLaMA-Factory's `empty` template writes neither BOS nor EOS: the copies carry them as text.
    sft, copy = pq.read_table(out / "sft.parquet").to_pylist(), pq.read_table(copies[0]).to_pylist()
    assert [(r["prompt"], r["completion"]) for r in copy] == [
        ("<s>" + r["prompt"] if not r["prompt"].startswith("<s>") else r["prompt"], r["completion"] + "</s>")
        for r in sft
    ]


def test_llama_factory_export_keeps_other_entries(out, tmp_path):
    folder = tmp_path / "LLaMA-Factory" / "data"
    folder.mkdir(parents=True)
    (folder / "dataset_info.json").write_text(
        json.dumps({"alpaca_en_demo": {"file_name": "alpaca_en_demo.json"}, "bagel_sft": {"file_name": "old"}})
    )
    export("llama-factory", out, folder)
    entries = json.loads((folder / "dataset_info.json").read_text())
    assert entries["alpaca_en_demo"] == {"file_name": "alpaca_en_demo.json"}
    assert entries["bagel_sft"]["file_name"] == "bagel_sft.parquet" and (folder / "bagel_sft.parquet").is_file()


def test_exports_still_read_the_files_after_the_folder_moves(out, tmp_path):
    """No absolute path: a copy of the folder elsewhere, read from another working directory,
    reads its own files (the original is gone from the paths' reach)."""
    import os
    import shutil

    export("axolotl", out)
    export("llama-factory", out)
    moved = tmp_path / "elsewhere" / out.name  # moved, not renamed: axolotl's paths name the folder
    shutil.copytree(out, moved)
    for path in (moved / "axolotl").glob("*.yaml"):
        assert str(out) not in path.read_text()
    entries = json.loads((moved / "llama-factory" / "dataset_info.json").read_text())
    cwd = tmp_path / "somewhere-else"
    cwd.mkdir()
    previous = os.getcwd()
    os.chdir(cwd)
    try:
        for entry in entries.values():  # LLaMA-Factory: os.path.join(dataset_dir, file_name)
            file = Path(os.path.join(moved / "llama-factory", entry["file_name"])).resolve()
            assert file.is_relative_to(moved.resolve()) and len(_read(str(file), tmp_path)) > 0
    finally:
        os.chdir(previous)
    # axolotl, run from the folder holding the output (its dataset paths are read from its cwd).
    os.chdir(moved.parent)
    try:
        for path in (moved / "axolotl").glob("*.yaml"):
            (dataset,) = yaml.safe_load(path.read_text())["datasets"]
            assert (
                Path(dataset["path"]).resolve().is_relative_to(moved.resolve())
                and len(_read(dataset["path"], tmp_path)) > 0
            )
    finally:
        os.chdir(previous)


def test_export_leaves_out_empty_files_and_refuses_other_folders(tmp_path):
    only_sft = tmp_path / "only-sft"
    run(
        RunConfig(out=only_sft, sources="mmlu", dpo="none", formats="vicuna", decontaminate="none", sample=True),
        load_plugins(),
    )
    assert set(axolotl_configs(only_sft)) == {"sft.yaml", "sft-rendered.yaml"}
    assert set(llama_factory_entries(only_sft)) == {"bagel_conversations", "bagel_sft"}
    with pytest.raises(ExportError, match="not a finished bagel output"):
        export("axolotl", tmp_path)


def test_export_command(out, tmp_path):
    into = tmp_path / "ax"
    done = subprocess.run(
        [sys.executable, "-m", "bagel_core", "export", "axolotl", str(out), "--into", str(into)],
        capture_output=True,
        text=True,
    )
    assert done.returncode == 0, done.stderr
    assert done.stdout.split() == [str(into / "sft.yaml"), str(into / "sft-rendered.yaml"), str(into / "dpo.yaml")]
    bad = subprocess.run(
        [sys.executable, "-m", "bagel_core", "export", "llama-factory", str(tmp_path)], capture_output=True, text=True
    )
    assert bad.returncode == 1 and "not a finished bagel output" in bad.stderr


# --- with the tools' own code ----------------------------------------------------------------


def test_axolotl_own_schema_accepts_the_configs(out, monkeypatch):
    """axolotl's own pydantic models validate every dataset entry; they ignore unknown keys, so
    each key must also be one of their fields, and keep its value."""
    import importlib

    monkeypatch.syspath_prepend(str(tool_code("axolotl")))
    schemas = importlib.import_module("axolotl.utils.schemas.datasets")
    configs = axolotl_configs(out)
    assert sorted(configs) == ["dpo.yaml", "sft-rendered.yaml", "sft.yaml"]
    for name, config in configs.items():
        model = schemas.DPODataset if config.get("rl") else schemas.SFTDataset
        [dataset] = config["datasets"]
        assert set(dataset) <= set(model.model_fields), (name, set(dataset) - set(model.model_fields))
        validated = model(**dataset).model_dump(mode="json", exclude_unset=True)
        assert {key: validated[key] for key in dataset} == dataset, name


#: LLaMA-Factory's converter run on each exported dataset, in a process of its own: its modules
#: import torchaudio, fire and others for images, audio and its CLI, stubbed there as
#: benchmarks/token_parity.py does (stubs that must not leak into other tests).
_LLAMA_FACTORY_CONVERT = """
import importlib.util, json, os, sys
import datasets
os.environ["DISABLE_VERSION_CHECK"] = "1"
repo, code, folder = sys.argv[1:]
spec = importlib.util.spec_from_file_location("token_parity", os.path.join(repo, "benchmarks", "token_parity.py"))
parity = importlib.util.module_from_spec(spec)
spec.loader.exec_module(parity)
sys.path.insert(0, code)
sys.meta_path.append(parity._Stubs())
from llamafactory.data.converter import get_dataset_converter
from llamafactory.data.parser import get_dataset_list
args = type("DataArgs", (), {"dataset_dir": folder, "media_dir": None, "streaming": False})()
counts = {}
names = ["bagel_conversations", "bagel_sft", "bagel_dpo"]
for name, attr in zip(names, get_dataset_list(names, folder)):
    # As its loader reads a file entry: relative to the dataset_info.json folder.
    data = os.path.join(folder, attr.dataset_name)
    rows = datasets.load_dataset("parquet", data_files=data, split="train", cache_dir=folder + "/hf")
    converter = get_dataset_converter(attr.formatting, attr, args)
    converted = [converter(row) for row in rows]
    counts[name] = [len(rows), sum(bool(c["_prompt"]) and bool(c["_response"]) for c in converted)]
print(json.dumps(counts))
"""


def test_llama_factory_own_converter_accepts_every_row(out, tmp_path):
    """LLaMA-Factory's own converter gives every exported row a prompt and a response (its
    sharegpt converter empties a conversation it would skip)."""
    path, *_ = export("llama-factory", out, tmp_path / "lf")
    done = subprocess.run(
        [sys.executable, "-c", _LLAMA_FACTORY_CONVERT, str(REPO), str(tool_code("llamafactory")), str(path.parent)],
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert done.returncode == 0, done.stderr[-3000:]
    counts = json.loads(done.stdout.splitlines()[-1])
    assert sorted(counts) == ["bagel_conversations", "bagel_dpo", "bagel_sft"]
    assert all(rows > 0 and kept == rows for rows, kept in counts.values()), counts
