"""A third-party plugin written against bagel-core 0.1's plugin API (plugin API 1.0), as its
guide (docs/plugins.md at 7a489fc) showed: kept as it was, so that tests/test_plugin_api.py
can check that such a plugin still loads, runs and passes its own tests, with deprecation
warnings where a call changed. Do not modernise it: that would defeat the test.

It reads the bagel-shakespeare example's samples (same upstream layout).
"""

from dataclasses import dataclass
from pathlib import Path

from bagel_core import (
    BenchmarkSet,
    BenchmarkText,
    Decontaminator,
    Match,
    PromptFormat,
    Source,
    as_conversation,
    hookimpl,
)

SAMPLES = Path(__file__).parent.parent / "bagel_shakespeare" / "bagel_shakespeare" / "samples"


class Sonnets(Source):
    name = "sonnets"
    description = "Lines of Shakespeare paired with modern English"
    priority = 2
    dataset_ids = ("tiny/shakespeare",)
    sample_root = SAMPLES

    @dataclass
    class Options:
        instruction: str = "Rewrite this line in modern English:"
        min_words: int = 0

    def rows(self, ctx):
        return ctx.load_dataset("tiny/shakespeare", data_files="lines.jsonl")

    def convert(self, row, ctx):
        if len(row["line"].split()) < self.options.min_words:
            ctx.filter("short line")
            return None
        return as_conversation(self.name, f"{self.options.instruction}\n{row['line']}", row["modern"])


class Scroll(PromptFormat):
    name = "scroll"
    description = "Q: and A: on a scroll"

    @dataclass
    class Options(PromptFormat.Options):  # keeps system_prompt_probability
        question: str = "Q"

    def render(self, messages):
        names = {"system": "NOTE", "user": self.options.question, "assistant": "A"}
        return "".join(f"{names[m['role']]}: {m['content']}\n" for m in messages) + "A: "


class Quiz(BenchmarkSet):
    name = "sonnets-quiz"
    description = "Questions of a Shakespeare quiz (test split)"
    dataset_ids = ("tiny/shakespeare-quiz",)
    sample_root = SAMPLES

    def texts(self, ctx):
        rows = ctx.load_dataset("tiny/shakespeare-quiz", split="test", data_files={"test": "quiz.jsonl"})
        for row in ctx.iter_rows(rows):
            yield BenchmarkText(benchmark=self.name, item=row["id"], text=row["question"])


class Contains(Decontaminator):
    name = "contains"
    description = "Items whose first turn contains a benchmark text"

    def index(self, benchmarks):
        self.benchmarks = list(benchmarks)

    def search(self, queries):
        for q in queries:
            for b in self.benchmarks:
                if b.text in q.text:
                    yield Match(q.id, q.source, self.name, b.benchmark, b.item, 1.0, q.text, b.text)
                    break


@hookimpl
def register_sources(register):
    register(Sonnets)


@hookimpl
def register_formats(register):
    register(Scroll)


@hookimpl
def register_benchmarks(register):
    register(Quiz)


@hookimpl
def register_decontaminators(register):
    register(Contains)
