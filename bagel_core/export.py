"""``bagel export axolotl|llama-factory OUT``: the configuration those trainers need to read an
output folder as it is, without converting a row.

- **axolotl**: dataset config fragments (YAML) to paste into an axolotl config:
  ``sft.yaml`` (``conversations.parquet``, type ``chat_template``: the model's own template),
  ``sft-rendered.yaml`` (``sft.parquet``, a user-defined type whose prompt is bagel's rendered
  ``prompt`` as is, trained on ``completion``: the columns trl reads, cut on a token boundary),
  ``dpo.yaml`` (``rl: dpo`` on ``dpo.parquet``, the rendered prompt as is).
- **LLaMA-Factory**: entries of its ``dataset_info.json``: ``bagel_conversations``
  (``sharegpt`` formatting with OpenAI role/content tags), ``bagel_sft`` and ``bagel_dpo``
  (``alpaca`` formatting on the rendered prompts: train them with ``template: empty``, since
  bagel already rendered the prompt format). ``empty`` is the only LLaMA-Factory template that
  passes a prompt through as it is, and it ends an answer without EOS (its assistant slot is
  ``{{content}}`` alone) and writes no BOS: a model trained so never learns to stop. So these
  two entries read copies (``bagel_sft.parquet``, ``bagel_dpo.parquet`` beside
  ``dataset_info.json``) whose answers end with the EOS text and whose prompts start with the
  BOS text (as bagel, trl and axolotl tokenize them; not when the rendering tokenizer adds no
  BOS or the prompt has it already). LLaMA-Factory encodes text without adding special tokens
  but recognises them in it, so ``</s>`` becomes the EOS id. The one export that converts rows.

Paths are relative, so the files stay right when the folder is moved, copied or shared:
LLaMA-Factory joins ``dataset_dir`` (the folder of ``dataset_info.json``) and ``file_name``, so
its ``file_name`` is relative to that folder; axolotl opens a dataset ``path`` from its working
directory, so its paths start with the output folder's name (``bagel-out/sft.parquet``): run
axolotl from the folder that holds the output. The field names were taken
from axolotl 0.19.0 (``axolotl/utils/schemas/datasets.py``, ``prompt_strategies``) and
LLaMA-Factory 0.9.5 (``llamafactory/data/parser.py``, ``converter.py``).
"""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Any

import pyarrow as pa
import pyarrow.parquet as pq

from .components import SpecialTokens
from .manifest import read_manifest
from .records import legacy_renames, sft_text_columns
from .storage import atomic_path, iter_batches

TOOLS = ("axolotl", "llama-factory")
#: Role/content tags of conversations.parquet's messages, in LLaMA-Factory's terms.
OPENAI_TAGS = {
    "role_tag": "role",
    "content_tag": "content",
    "user_tag": "user",
    "assistant_tag": "assistant",
    "system_tag": "system",
}


class ExportError(ValueError):
    """The folder is not a bagel output (or has nothing the tool could train on)."""


def _rows(path: Path) -> int:
    return pq.read_metadata(path).num_rows if path.exists() else 0


def _check(out: Path) -> Path:
    out = Path(out).resolve()
    if not (out / "manifest.json").exists():
        raise ExportError(f"{out} is not a finished bagel output (no manifest.json); run `bagel run --out {out}` first")
    read_manifest(out)  # a manifest this bagel cannot read (a newer format) is an error here, not a wrong export
    return out


def _axolotl_path(out: Path, name: str) -> str:
    """``OUT/name`` as axolotl opens it: from its working directory, the folder holding OUT."""
    return f"{out.name}/{name}"


def axolotl_configs(out: Path) -> dict[str, dict[str, Any]]:
    """File name -> axolotl config fragment, for each output file that has rows."""
    out = _check(out)
    configs: dict[str, dict[str, Any]] = {}
    if _rows(out / "conversations.parquet"):
        configs["sft.yaml"] = {
            "datasets": [
                {
                    "path": _axolotl_path(out, "conversations.parquet"),
                    "split": "train",
                    "type": "chat_template",
                    "field_messages": "messages",
                    "message_property_mappings": {"role": "role", "content": "content"},
                    "roles_to_train": ["assistant"],
                }
            ]
        }
    if _rows(out / "sft.parquet"):
        prompt, completion = sft_text_columns(pq.read_schema(out / "sft.parquet").names)
        configs["sft-rendered.yaml"] = {
            # The rendered prompt is the whole instruction: a field that does not exist as
            # "input" (axolotl's default, which an earlier bagel's file has), the format string
            # passing the instruction through unchanged; train_on_inputs false masks it.
            "train_on_inputs": False,
            "datasets": [
                {
                    "path": _axolotl_path(out, "sft.parquet"),
                    "split": "train",
                    "type": {
                        "field_instruction": prompt,
                        "field_input": "bagel_no_input",
                        "field_output": completion,
                        "format": "{instruction}",
                        "no_input_format": "{instruction}",
                    },
                }
            ],
        }
    if _rows(out / "dpo.parquet"):
        configs["dpo.yaml"] = {
            "rl": "dpo",
            "datasets": [
                {
                    "path": _axolotl_path(out, "dpo.parquet"),
                    "split": "train",
                    "type": {
                        "field_prompt": "prompt",
                        "field_chosen": "chosen",
                        "field_rejected": "rejected",
                        "prompt_format": "{prompt}",
                        "chosen_format": "{chosen}",
                        "rejected_format": "{rejected}",
                    },
                }
            ],
        }
    if not configs:
        raise ExportError(f"{out} has no rows in sft.parquet, dpo.parquet or conversations.parquet")
    return configs


#: LLaMA-Factory's copies of the rendered files: (file, prompt column, answer columns).
LF_COPIES = {
    "sft.parquet": ("bagel_sft.parquet", "prompt", ("completion",)),
    "dpo.parquet": ("bagel_dpo.parquet", "prompt", ("chosen", "rejected")),
}


def special_texts(out: Path) -> tuple[str, str]:
    """The BOS text a prompt starts with in training (empty when the rendering tokenizer adds
    none) and the EOS text, from the manifest (``bagel run --tokenizer``, else the defaults)."""
    manifest = read_manifest(out)
    tokens = SpecialTokens(**{k: v for k, v in manifest.special_tokens.items() if v is not None})
    bos = tokens.bos
    if tokens.tokenizer_path:
        from transformers import AutoTokenizer

        tokenizer = AutoTokenizer.from_pretrained(tokens.tokenizer_path)
        if tokenizer.bos_token_id is None or tokenizer.bos_token_id not in tokenizer("")["input_ids"]:
            bos = ""
    return bos, tokens.eos


def with_special_tokens(src: Path, dest: Path, prompt: str, answers: tuple[str, ...], bos: str, eos: str) -> None:
    """``src`` with ``bos`` in front of each ``prompt`` (unless already there) and ``eos`` after
    each of ``answers``, streamed batch by batch."""
    import pyarrow.compute as pc

    names = pq.read_schema(src).names
    # An earlier bagel's sft.parquet names the texts input/output: the copy gets today's names.
    legacy = legacy_renames(names)
    keep = [c for c in names if legacy.get(c, c) in ("id", "source", "format", prompt, *answers)]
    with atomic_path(dest) as tmp:
        writer = None
        for batch in iter_batches(src, columns=keep):
            table = pa.Table.from_batches([batch])
            table = table.rename_columns([legacy.get(c, c) for c in table.column_names])
            if bos:
                texts = table[prompt]
                fixed = pc.if_else(pc.starts_with(texts, bos), texts, pc.binary_join_element_wise(bos, texts, ""))
                table = table.set_column(table.schema.get_field_index(prompt), prompt, fixed)
            for c in answers:
                table = table.set_column(
                    table.schema.get_field_index(c), c, pc.binary_join_element_wise(table[c], eos, "")
                )
            writer = writer or pq.ParquetWriter(tmp, table.schema)
            writer.write_table(table)
        if writer is not None:
            writer.close()


def llama_factory_entries(out: Path, folder: Path | None = None) -> dict[str, dict[str, Any]]:
    """``dataset_info.json`` entries for each output file that has rows, their ``file_name``
    relative to ``folder`` (the folder of that file; default ``OUT/llama-factory``); the
    rendered rows are read from their copies with EOS there, which :func:`export` writes."""
    out = _check(out)
    folder = (Path(folder) if folder is not None else out / "llama-factory").resolve()

    def rel(name: str) -> str:
        return os.path.relpath(out / name, folder)

    entries: dict[str, dict[str, Any]] = {}
    if _rows(out / "conversations.parquet"):
        entries["bagel_conversations"] = {
            "file_name": rel("conversations.parquet"),
            "formatting": "sharegpt",
            "columns": {"messages": "messages"},
            "tags": dict(OPENAI_TAGS),
        }
    if _rows(out / "sft.parquet"):
        entries["bagel_sft"] = {
            "file_name": LF_COPIES["sft.parquet"][0],
            "formatting": "alpaca",
            "columns": {"prompt": "prompt", "response": "completion"},
        }
    if _rows(out / "dpo.parquet"):
        entries["bagel_dpo"] = {
            "file_name": LF_COPIES["dpo.parquet"][0],
            "formatting": "alpaca",
            "ranking": True,
            "columns": {"prompt": "prompt", "chosen": "chosen", "rejected": "rejected"},
        }
    if not entries:
        raise ExportError(f"{out} has no rows in sft.parquet, dpo.parquet or conversations.parquet")
    return entries


def export(tool: str, out: Path, into: Path | None = None) -> list[Path]:
    """Write the files of ``tool`` into ``into`` (default ``OUT/<tool>``); returns their paths.

    For LLaMA-Factory an existing ``dataset_info.json`` in ``into`` (say, LLaMA-Factory's own
    ``data/``) keeps its other entries; bagel's are added or replaced.
    """
    import yaml

    if tool not in TOOLS:
        raise ExportError(f"unknown tool {tool!r}; expected one of {', '.join(TOOLS)}")
    _check(out)  # before any folder is made
    folder = Path(into) if into is not None else Path(out) / tool
    folder.mkdir(parents=True, exist_ok=True)
    written = []
    if tool == "axolotl":
        for name, config in axolotl_configs(out).items():
            with atomic_path(folder / name) as tmp:
                tmp.write_text(
                    f"# dataset paths are relative to the folder holding {Path(out).resolve().name}/: run axolotl from there\n"
                    + yaml.safe_dump(config, sort_keys=False)
                )
            written.append(folder / name)
        return written
    path = folder / "dataset_info.json"
    entries = json.loads(path.read_text()) if path.exists() else {}
    if not isinstance(entries, dict):
        raise ExportError(f"{path} is not a JSON object of datasets")
    new = llama_factory_entries(out, folder)
    bos, eos = special_texts(out)
    for name, (copy, prompt, answers) in LF_COPIES.items():
        if _rows(Path(out) / name):
            with_special_tokens(Path(out) / name, folder / copy, prompt, answers, bos, eos)
            written.append(folder / copy)
    entries.update(new)
    with atomic_path(path) as tmp:
        tmp.write_text(json.dumps(entries, indent=2) + "\n")
    return [path, *written]
