"""Token parity: for the same rows of a bagel output, the token ids and loss masks each tool
builds, compared with `bagel train sft` / `bagel train dpo` (``train_data``), per prompt format.

- **trl**: trl's own ``SFTTrainer`` / ``DPOTrainer`` dataset preparation on
  ``datasets.load_dataset(OUT, "sft" | "dpo")`` (the dataset card's configs), as loaded.
- **axolotl**: the rule of axolotl 0.19's user-defined instruct type that ``sft-rendered.yaml``
  selects (``InstructionPromptTokenizingStrategy`` with ``train_on_inputs: false``: the prompt
  tokenized with the tokenizer's special tokens and masked, the answer without BOS and with EOS,
  trained); axolotl does not install beside bagel's torch/transformers. axolotl's ``rl: dpo``
  hands prompt/chosen/rejected to trl's DPOTrainer: its DPO row is trl's.
- **LLaMA-Factory**: its own code (``get_template_and_fix_tokenizer`` with ``template: empty``,
  the alpaca converter from the exported ``dataset_info.json``, ``SupervisedDatasetProcessor``
  / ``PairwiseDatasetProcessor``) on the files ``bagel export llama-factory`` writes, when its
  unpacked wheel is given with ``--llamafactory SRC`` (``pip download llamafactory==0.9.5
  --no-deps`` and unzip; its pins do not install beside torch 2.13, so the modules it imports
  only for images and audio are stubbed).

A row matches when ids and trained positions are identical. Usage::

    python benchmarks/token_parity.py --out bagel-out --model MODEL_FOLDER [--llamafactory SRC]
"""

from __future__ import annotations

import argparse
import importlib.abc
import importlib.machinery
import os
import sys
import tempfile
import types
from collections import Counter
from collections.abc import Callable
from pathlib import Path
from typing import Any

Row = tuple[list[int], list[int]]  # (input_ids, 1 where trained)


def bagel_sft(tokenizer: Any, rows: list[dict]) -> list[Row]:
    from bagel_core.builtin.train import data as train_data

    return [train_data.sft_single(tokenizer, r["input"], r["output"]) for r in rows]


def bagel_dpo(tokenizer: Any, rows: list[dict]) -> list[Row]:
    """Each pair as its chosen sequence then its rejected one (two entries per pair)."""
    from bagel_core.builtin.train import data as train_data

    out = []
    for r in rows:
        prompt = train_data.encode_prompt(tokenizer, r["prompt"])
        for answer in (r["chosen"], r["rejected"]):
            ids = train_data.encode_completion(tokenizer, answer)
            out.append((prompt + ids, [0] * len(prompt) + [1] * len(ids)))
    return out


def _trl_args(config_cls: type, folder: str, **extra: Any) -> Any:
    return config_cls(output_dir=folder, report_to=["none"], use_cpu=True, max_length=None, **extra)


def trl_sft(out: Path, model: str, tokenizer: Any) -> list[Row]:
    import datasets
    from trl import SFTConfig, SFTTrainer

    rows = datasets.load_dataset(str(out), "sft", split="train")
    with tempfile.TemporaryDirectory() as folder:
        trainer = SFTTrainer(
            model=model,
            args=_trl_args(SFTConfig, folder, completion_only_loss=True),
            train_dataset=rows,
            processing_class=tokenizer,
        )
    # trl folds the completion mask into labels (-100 where not trained).
    return [(r["input_ids"], [int(x != -100) for x in r["labels"]]) for r in trainer.train_dataset]


def trl_dpo(out: Path, model: str, tokenizer: Any) -> list[Row]:
    import datasets
    from trl import DPOConfig, DPOTrainer

    rows = datasets.load_dataset(str(out), "dpo", split="train")
    with tempfile.TemporaryDirectory() as folder:
        trainer = DPOTrainer(
            model=model, args=_trl_args(DPOConfig, folder), train_dataset=rows, processing_class=tokenizer
        )
    result = []
    for r in trainer.train_dataset:
        for answer in (r["chosen_ids"], r["rejected_ids"]):
            result.append((r["prompt_ids"] + answer, [0] * len(r["prompt_ids"]) + [1] * len(answer)))
    return result


def axolotl_sft(tokenizer: Any, rows: list[dict]) -> list[Row]:
    """axolotl's ``_tokenize``: ``tokenizer(text)`` (special tokens on), the response's BOS
    stripped and EOS appended unless already last; the prompt's labels -100."""
    out = []
    for r in rows:
        prompt = list(tokenizer(r["input"])["input_ids"])
        answer = list(tokenizer(r["output"])["input_ids"])
        if answer and answer[0] == tokenizer.bos_token_id:
            answer = answer[1:]
        if not answer or answer[-1] != tokenizer.eos_token_id:
            answer.append(tokenizer.eos_token_id)
        out.append((prompt + answer, [0] * len(prompt) + [1] * len(answer)))
    return out


class _Stubs(importlib.abc.MetaPathFinder, importlib.abc.Loader):
    """Empty modules for what LLaMA-Factory imports only for images, audio and its CLI."""

    names = {"torchaudio", "av", "fire", "tyro", "omegaconf", "modelscope"}

    def find_spec(self, name: str, path: Any, target: Any = None) -> importlib.machinery.ModuleSpec | None:
        return importlib.machinery.ModuleSpec(name, self, is_package=True) if name.split(".")[0] in self.names else None

    def create_module(self, spec: importlib.machinery.ModuleSpec) -> types.ModuleType:
        module = types.ModuleType(spec.name)
        module.__path__ = []
        module.__getattr__ = lambda attr: type(attr, (), {})  # type: ignore[method-assign]
        return module

    def exec_module(self, module: types.ModuleType) -> None:
        pass


def llamafactory(src: str, out: Path, model: str) -> tuple[list[Row], list[Row]]:
    """LLaMA-Factory's own rows (SFT, DPO as chosen then rejected) from the exported files."""
    import copy

    import datasets
    from transformers import AutoTokenizer

    os.environ["DISABLE_VERSION_CHECK"] = "1"
    sys.path.insert(0, src)
    sys.meta_path.append(_Stubs())
    from llamafactory.data.converter import get_dataset_converter
    from llamafactory.data.parser import get_dataset_list
    from llamafactory.data.processor.pairwise import PairwiseDatasetProcessor
    from llamafactory.data.processor.supervised import SupervisedDatasetProcessor
    from llamafactory.data.template import get_template_and_fix_tokenizer
    from llamafactory.hparams import DataArguments

    from bagel_core.export import export

    results = []
    with tempfile.TemporaryDirectory() as folder:
        info, *_ = export("llama-factory", out, Path(folder))
        for name, processor_cls in (("bagel_sft", SupervisedDatasetProcessor), ("bagel_dpo", PairwiseDatasetProcessor)):
            args = DataArguments(template="empty", dataset_dir=str(info.parent), cutoff_len=1_000_000)
            tokenizer = AutoTokenizer.from_pretrained(model)
            template = get_template_and_fix_tokenizer(tokenizer, args)
            (attr,) = get_dataset_list([name], str(info.parent))
            converter = get_dataset_converter(attr.formatting, attr, args)
            # As its loader reads a file entry: relative to the dataset_info.json folder.
            data = str(info.parent / attr.dataset_name)
            rows = [converter(r) for r in datasets.load_dataset("parquet", data_files=data, split="train")]
            batch = {k: [r[k] for r in rows] for k in rows[0]}
            encoded = processor_cls(
                template=template, tokenizer=tokenizer, processor=None, data_args=copy.copy(args)
            ).preprocess_dataset(batch)
            if name == "bagel_sft":
                results.append(
                    [
                        (ids, [int(x != -100) for x in labels])
                        for ids, labels in zip(encoded["input_ids"], encoded["labels"])
                    ]
                )
            else:
                pairs = []
                for i in range(len(encoded["chosen_input_ids"])):
                    for side in ("chosen", "rejected"):
                        pairs.append(
                            (encoded[f"{side}_input_ids"][i], [int(x != -100) for x in encoded[f"{side}_labels"][i]])
                        )
                results.append(pairs)
    return results[0], results[1]


def compare(reference: list[Row], other: list[Row], formats: list[str]) -> dict[str, tuple[int, int]]:
    """``{format: (rows matching, rows)}``."""
    if len(other) != len(reference):
        raise ValueError(f"{len(other)} rows against bagel's {len(reference)}")
    same: Counter = Counter()
    total: Counter = Counter()
    for fmt, a, b in zip(formats, reference, other):
        total[fmt] += 1
        same[fmt] += a[0] == list(b[0]) and a[1] == list(b[1])
    return {fmt: (same[fmt], total[fmt]) for fmt in sorted(total)}


def parity(out: Path, model: str, lf_src: str | None = None) -> dict[str, dict[str, dict[str, tuple[int, int]]]]:
    """``{"sft" | "dpo": {tool: {format: (matching, rows)}}}`` against bagel's own rows."""
    import pyarrow.parquet as pq
    from transformers import AutoTokenizer

    tokenizer = AutoTokenizer.from_pretrained(model)
    sft = pq.read_table(out / "sft.parquet").to_pylist()
    dpo = pq.read_table(out / "dpo.parquet").to_pylist()
    sft_formats = [r["format"] for r in sft]
    dpo_formats = [r["format"] for r in dpo for _ in range(2)]
    ours_sft, ours_dpo = bagel_sft(tokenizer, sft), bagel_dpo(tokenizer, dpo)
    table: dict[str, dict[str, dict[str, tuple[int, int]]]] = {"sft": {}, "dpo": {}}
    tools: dict[str, tuple[Callable[[], list[Row]], Callable[[], list[Row]]]] = {
        "trl": (lambda: trl_sft(out, model, tokenizer), lambda: trl_dpo(out, model, tokenizer)),
        "axolotl": (lambda: axolotl_sft(tokenizer, sft), lambda: trl_dpo(out, model, tokenizer)),
    }
    for tool, (make_sft, make_dpo) in tools.items():
        table["sft"][tool] = compare(ours_sft, make_sft(), sft_formats)
        table["dpo"][tool] = compare(ours_dpo, make_dpo(), dpo_formats)
    if lf_src:
        lf_sft, lf_dpo = llamafactory(lf_src, out, model)
        table["sft"]["llama-factory"] = compare(ours_sft, lf_sft, sft_formats)
        table["dpo"]["llama-factory"] = compare(ours_dpo, lf_dpo, dpo_formats)
    return table


def render(table: dict[str, dict[str, dict[str, tuple[int, int]]]]) -> str:
    lines = ["| data | tool | " + " | ".join(sorted({f for t in table.values() for c in t.values() for f in c})) + " |"]
    formats = sorted({f for t in table.values() for c in t.values() for f in c})
    lines.append("| --- | --- |" + " --- |" * len(formats))
    for kind, tools in table.items():
        for tool, counts in tools.items():
            cells = [f"{counts[f][0]}/{counts[f][1]}" if f in counts else "" for f in formats]
            lines.append(f"| {kind} | {tool} | " + " | ".join(cells) + " |")
    return "\n".join(lines)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--out", type=Path, required=True, help="a bagel output folder")
    parser.add_argument("--model", required=True, help="model folder (its tokenizer tokenizes; trl loads the model)")
    parser.add_argument(
        "--llamafactory", help="LLaMA-Factory's unpacked wheel (its src folder) to run its own data code"
    )
    args = parser.parse_args()
    print(render(parity(args.out, args.model, args.llamafactory)))
    print("(rows whose token ids and trained positions equal bagel train's, per prompt format)")


if __name__ == "__main__":
    main()
