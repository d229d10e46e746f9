"""A third-party bagel plugin: a source that asks to modernise lines of Shakespeare."""

from dataclasses import dataclass
from pathlib import Path

from bagel_core import Source, as_conversation, hookimpl


class Shakespeare(Source):
    name = "shakespeare"
    description = "Lines of Shakespeare paired with modern English"
    priority = 2
    dataset_ids = ("tiny/shakespeare",)
    sample_root = Path(__file__).parent / "samples"

    @dataclass
    class Options:
        instruction: str = "Rewrite this line in modern English:"

    def rows(self, ctx):
        return ctx.load_dataset(self.dataset_ids[0], data_files={"train": "lines.jsonl"})

    def convert(self, row, ctx):
        return as_conversation("shakespeare", f"{self.options.instruction}\n{row['line']}", row["modern"])


@hookimpl
def register_sources(register):
    register(Shakespeare)
