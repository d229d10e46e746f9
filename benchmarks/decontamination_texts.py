"""Real benchmark items and clean (non-benchmark) texts from ../shared/data, for the
decontamination measurements. Benchmark texts are the ones the reference indexed
(design/SOURCES.md §4); BoolQ, PIQA and OpenBookQA were not indexed and are left out."""

from __future__ import annotations

import csv
import gzip
import json
import os
import random
from pathlib import Path

from bagel_core.components import BenchmarkText
from bagel_sources_builtin.benchmarks.gsm8k import gsm8k_views
from bagel_sources_builtin.benchmarks.humaneval import humaneval_views
from bagel_sources_builtin.benchmarks.mmlu import mmlu_views

DATA = Path(__file__).resolve().parents[1] / ".." / "shared" / "data"
LETTERS = "ABCDEFG"


def _jsonl(path: Path) -> list[dict]:
    opener = gzip.open if path.suffix == ".gz" else open
    with opener(path, "rt", encoding="utf-8") as f:
        return [json.loads(line) for line in f if line.strip()]


def _winogrande_sentence(row: dict) -> str:
    """The original sentence with its ``_`` blank, rebuilt from llm-foundry's two contexts."""
    prefix = os.path.commonprefix(row["context_options"])
    prefix = prefix[: prefix.rfind(" ") + 1]
    return f"{prefix}_ {row['continuation']}"


def mmlu_rows(split: str = "test") -> list[dict]:
    """MMLU rows of every subject: subject, index, question, choices, answer (0-3)."""
    rows = []
    for path in sorted((DATA / "benchmarks" / "mmlu" / split).glob("*.csv")):
        subject = path.stem.removesuffix(f"_{split}")
        with open(path, newline="", encoding="utf-8") as f:
            for i, r in enumerate(csv.DictReader(f)):
                rows.append(
                    {
                        "subject": subject,
                        "index": i,
                        "question": r["question"],
                        "choices": [r[f"choice{k}"] for k in range(4)],
                        "answer": int(r["answer"]),
                    }
                )
    return rows


def gsm8k_rows() -> list[dict]:
    return _jsonl(DATA / "benchmarks" / "gsm8k" / "test.jsonl")


def humaneval_rows() -> list[dict]:
    return _jsonl(DATA / "benchmarks" / "humaneval" / "HumanEval.jsonl.gz")


def benchmark_items() -> dict[str, list[BenchmarkText]]:
    """Benchmark name -> its indexed texts, every view the benchmark sets of the sources plugin
    index (built by the plugin's own view functions from the real files)."""
    b = DATA / "benchmarks"
    out: dict[str, list[BenchmarkText]] = {}
    rows = json.loads((b / "alpaca_eval" / "alpaca_eval_text_davinci_003_model_outputs.json").read_text())
    out["alpaca_eval"] = [
        BenchmarkText("alpaca_eval", str(i), r["instruction"], "instruction") for i, r in enumerate(rows)
    ]
    out["mt_bench"] = [
        BenchmarkText("mt_bench", str(r["question_id"]), r["turns"][0], "question")
        for r in _jsonl(b / "mt_bench" / "question.jsonl")
    ]
    out["mmlu"] = [
        t for r in mmlu_rows() for t in mmlu_views("mmlu", f"{r['subject']}/{r['index']}", r["question"], r["choices"])
    ]
    with open(b / "truthfulqa" / "TruthfulQA.csv", newline="", encoding="utf-8") as f:
        out["truthfulqa"] = [
            BenchmarkText("truthfulqa", str(i), r["Question"], "question") for i, r in enumerate(csv.DictReader(f))
        ]
    out["gsm8k"] = [
        t for i, r in enumerate(gsm8k_rows()) for t in gsm8k_views("gsm8k", str(i), r["question"], r["answer"])
    ]
    arc = []
    for i, r in enumerate(_jsonl(b / "arc_challenge" / "arc_challenge_test.llm-foundry.jsonl")):
        question = r["query"].removeprefix("Question: ")
        options = "\n".join(f"{LETTERS[j]}. {c}" for j, c in enumerate(r["choices"]))
        arc.append(BenchmarkText("arc_challenge", str(i), f"{question}\n{options}", "question+choices"))
        arc.append(BenchmarkText("arc_challenge", str(i), f"{question}\n{r['choices'][r['gold']]}", "question+answer"))
    out["arc_challenge"] = arc
    out["humaneval"] = [
        t
        for r in humaneval_rows()
        for t in humaneval_views("humaneval", r["task_id"], r["prompt"], r["canonical_solution"], r["entry_point"])
    ]
    wino = _jsonl(b / "winogrande" / "winogrande_dev.llm-foundry.jsonl")
    out["winogrande"] = [
        BenchmarkText("winogrande", str(i), _winogrande_sentence(r), "sentence") for i, r in enumerate(wino)
    ]
    return out


def clean_texts(limit: int, seed: int = 0) -> list[str]:
    """Real instructions that are in no benchmark above: MMLU auxiliary-train science
    questions, Spider questions, EmoBank sentences."""
    s = DATA / "sources"
    texts: list[str] = []
    for name in ("auxiliary_train_science_elementary.csv", "auxiliary_train_science_middle.csv"):
        with open(s / "mmlu" / name, newline="", encoding="utf-8") as f:
            texts += [
                r[0] + "\n" + "\n".join(f"{LETTERS[j]}. {c}" for j, c in enumerate(r[1:-1])) for r in csv.reader(f)
            ]
    texts += [r["question"] for r in json.loads((s / "spider" / "dev.json").read_text())]
    with open(s / "emobank" / "emobank.csv", newline="", encoding="utf-8") as f:
        texts += [r["text"].strip().rstrip('"').rstrip() for r in csv.DictReader(f) if r["split"] == "train"]
    texts = list(dict.fromkeys(t for t in texts if t.strip()))
    random.Random(seed).shuffle(texts)
    return texts[:limit]
