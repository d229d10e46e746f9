"""bagel-shakespeare: a source, a prompt format, a benchmark set and a decontaminator."""

from dataclasses import dataclass, field
from pathlib import Path

from bagel_core import BenchmarkSet, BenchmarkText, Decontaminator, Match, PromptFormat, Source, as_conversation, hookimpl
from bagel_core.readers import text

SAMPLES = Path(__file__).parent / "samples"  # tiny copies of the upstream files, for --sample


class Shakespeare(Source):
    name = "shakespeare"
    description = "Lines of Shakespeare paired with modern English"
    priority = 2
    dataset_ids = ("tiny/shakespeare",)
    sample_root = SAMPLES

    @dataclass
    class Options:
        instruction: str = "Rewrite this line in modern English:"

    def rows(self, ctx):
        return ctx.load_dataset("tiny/shakespeare", data_files="lines.jsonl")

    def convert(self, row, ctx):
        # text(): a missing or null field rejects the row as "missing field 'line'", counted
        return as_conversation(self.name, f"{self.options.instruction}\n{text(row, 'line')}", text(row, "modern"))


class Playbill(PromptFormat):
    name = "playbill"
    description = "A script: PROLOGUE, STUDENT and BARD speak in turn"
    SPEAKERS = {"system": "PROLOGUE", "user": "STUDENT", "assistant": "BARD"}

    def render(self, messages):
        return "".join(f"{self.SPEAKERS[m['role']]}. {m['content']}\n" for m in messages) + "BARD. "

    def chat_template(self):
        return ("{% set speakers = {'system': 'PROLOGUE', 'user': 'STUDENT', 'assistant': 'BARD'} %}"
                "{% for m in messages %}{{ speakers[m['role']] }}. {{ m['content'] }}\n{% endfor %}"
                "{% if add_generation_prompt %}BARD. {% endif %}")


class Quiz(BenchmarkSet):
    name = "shakespeare-quiz"
    description = "Questions of a Shakespeare quiz (test split)"
    dataset_ids = ("tiny/shakespeare-quiz",)
    sample_root = SAMPLES

    def texts(self, ctx):
        rows = ctx.load_dataset("tiny/shakespeare-quiz", split="test", data_files={"test": "quiz.jsonl"})
        for row in ctx.iter_rows(rows):
            yield BenchmarkText(benchmark=self.name, item=text(row, "id"), text=text(row, "question"))


class QuotedLine(Decontaminator):
    name = "quoted-line"
    description = "Items whose instruction quotes a benchmark text (case-folded)"

    @dataclass
    class Options:
        min_chars: int = field(default=12, metadata={"min": 1})  # shorter texts match too much

    def index(self, benchmarks):
        self.benchmarks = [(b, b.text.casefold()) for b in benchmarks if len(b.text) >= self.options.min_chars]

    def search(self, queries):
        for q in queries:
            hit = next((b for b, text in self.benchmarks if text in q.text.casefold()), None)
            if hit:
                yield Match(id=q.id, source=q.source, decontaminator=self.name, benchmark=hit.benchmark,
                            benchmark_item=hit.item, score=1.0, text=q.text, benchmark_text=hit.text)


@hookimpl
def register_sources(register):
    register(Shakespeare)


@hookimpl
def register_formats(register):
    register(Playbill)


@hookimpl
def register_benchmarks(register):
    register(Quiz)


@hookimpl
def register_decontaminators(register):
    register(QuotedLine)
