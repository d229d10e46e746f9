"""A test plugin for the decontamination tests: two small benchmark sets built from real rows of
../shared/data/benchmarks, a source mixing known contaminated items with clean real texts
(../shared/data/sources), and a plain prompt format."""

from __future__ import annotations

import csv
import json
from pathlib import Path

from bagel_core import (
    BenchmarkSet,
    BenchmarkText,
    Decontaminator,
    PromptFormat,
    Source,
    as_conversation,
    dpo_pair,
    hookimpl,
    plain_text,
    sft_item,
)

DATA = Path(__file__).resolve().parents[1] / ".." / "shared" / "data"


def gsm8k_questions(n: int) -> list[str]:
    with open(DATA / "benchmarks" / "gsm8k" / "test.jsonl", encoding="utf-8") as f:
        return [json.loads(line)["question"] for line, _ in zip(f, range(n))]


def truthfulqa_questions(n: int) -> list[str]:
    with open(DATA / "benchmarks" / "truthfulqa" / "TruthfulQA.csv", newline="", encoding="utf-8") as f:
        return [row["Question"] for row, _ in zip(csv.DictReader(f), range(n))]


def clean_questions(n: int) -> list[str]:
    """Spider questions: real instructions that are in no benchmark set."""
    return [row["question"] for row in json.loads((DATA / "sources" / "spider" / "dev.json").read_text())[:n]]


GSM8K = gsm8k_questions(60)
TRUTHFULQA = truthfulqa_questions(40)
CLEAN = list(dict.fromkeys(clean_questions(100)))


class Gsm8kHead(BenchmarkSet):
    name = "test-gsm8k"
    description = "The first 60 GSM8K test questions."

    def texts(self, ctx):
        return [BenchmarkText("test-gsm8k", str(i), q) for i, q in enumerate(GSM8K)]


class TruthfulqaHead(BenchmarkSet):
    name = "test-truthfulqa"
    description = "The first 40 TruthfulQA questions."

    def texts(self, ctx):
        return [BenchmarkText("test-truthfulqa", str(i), q) for i, q in enumerate(TRUTHFULQA)]


#: Known contaminated items: (how it is stored, benchmark, item, text).
VERBATIM = GSM8K[3]
PREFIXED = "Question: " + " ".join(GSM8K[7].lower().split())
DPO_PROMPT = TRUTHFULQA[5]
LATER_TURN = GSM8K[10]  # only in the second human turn: found with query_text = "all"


class Mixed(Source):
    name = "test-mixed"
    description = "Known contaminated items among clean Spider questions."

    def load(self, ctx):
        for q in CLEAN:
            yield as_conversation(self.name, q, "SELECT 1")
        yield as_conversation(self.name, VERBATIM, "18")
        yield as_conversation(self.name, PREFIXED, "3")
        yield dpo_pair(self.name, DPO_PROMPT, "Nothing in particular.", "You grow watermelons.")
        yield sft_item(
            self.name,
            [
                {"from": "human", "value": "Can you help me with maths?"},
                {"from": "gpt", "value": "Sure."},
                {"from": "human", "value": LATER_TURN},
                {"from": "gpt", "value": "42"},
            ],
        )
        yield plain_text(self.name, "Plain text is never checked: " + GSM8K[20])


class Plain(PromptFormat):
    name = "test-plain"
    description = "USER/ASSISTANT lines."

    def render(self, messages):
        return "".join(f"{m['role'].upper()}: {m['content']}\n" for m in messages) + "ASSISTANT:"


class BrokenIndex(Decontaminator):
    """A decontaminator with a bug: its index fails (in a worker process too)."""

    name = "test-broken"
    description = "Fails to index."

    def index(self, benchmarks):
        raise ValueError(f"test-broken: cannot index {len(benchmarks)} texts")

    def search(self, queries):
        return []


@hookimpl
def register_decontaminators(register):
    register(BrokenIndex)


@hookimpl
def register_benchmarks(register):
    register(Gsm8kHead)
    register(TruthfulqaHead)


@hookimpl
def register_sources(register):
    register(Mixed)


@hookimpl
def register_formats(register):
    register(Plain)
