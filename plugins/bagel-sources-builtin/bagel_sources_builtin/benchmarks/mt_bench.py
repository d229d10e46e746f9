"""MT-Bench: the first turn of each of its 80 questions (hosted on GitHub, not the Hub)."""

from __future__ import annotations

import json
from collections.abc import Iterator

from bagel_core import BenchmarkSet, BenchmarkText, LoadContext

from .. import SAMPLES
from .base import text

QUESTIONS = "fastchat/llm_judge/data/mt_bench/question.jsonl"


class MtBench(BenchmarkSet):
    name = "mt_bench"
    description = "MT-Bench question.jsonl (GitHub lm-sys/FastChat): first turn"
    # Not a Hub dataset: a data root holds it as a checkout of the GitHub repository.
    dataset_ids = ("lm-sys/FastChat",)
    groups = ("legacy",)
    sample_root = SAMPLES
    url = f"https://raw.githubusercontent.com/lm-sys/FastChat/main/{QUESTIONS}"

    def texts(self, ctx: LoadContext) -> Iterator[BenchmarkText]:
        path = ctx.dataset_file(self.dataset_ids[0], QUESTIONS, url=self.url)
        for index, line in enumerate(path.read_text(encoding="utf-8").splitlines()):
            if not line.strip():
                continue
            try:
                row = json.loads(line)
                turns = row["turns"]
                item = row.get("question_id", index)
            except (ValueError, KeyError, TypeError):
                ctx.reject("malformed question line")
                continue
            yield from text(self.name, item, turns[0] if isinstance(turns, list) and turns else None, ctx, "question")
