"""boolq: yes/no questions about a passage, answered "true" or "false"."""

from __future__ import annotations

from dataclasses import dataclass

from bagel_core import LoadContext, Source, as_conversation
from bagel_core.readers import RowError, field, text

from . import SAMPLES

PREAMBLE = "Read the passage of text provided below, then answer the question."


class BoolQ(Source):
    name = "boolq"
    description = "BoolQ train: passage + 'True or false - <question>', answer true/false"
    priority = 3
    dataset_ids = ("google/boolq",)
    license = "cc-by-sa-3.0"
    citation = r"""@inproceedings{clark2019boolq,
  title = {BoolQ: Exploring the Surprising Difficulty of Natural Yes/No Questions},
  author = {Clark, Christopher and Lee, Kenton and Chang, Ming-Wei and Kwiatkowski, Tom and Collins, Michael and Toutanova, Kristina},
  booktitle = {Proceedings of NAACL-HLT},
  year = {2019}
}"""
    sample_root = SAMPLES

    @dataclass
    class Options:
        data_files: str = "data/train-*.parquet"

    options: Options

    def rows(self, ctx: LoadContext):
        return ctx.load_dataset(self.dataset_ids[0], data_files={"train": self.options.data_files})

    def convert(self, row, ctx: LoadContext):
        answer = field(row, "answer")
        if not isinstance(answer, bool):
            raise RowError("wrong type", "answer is not a bool")
        instruction = f"{PREAMBLE}\n\n{text(row, 'passage')}\n\nTrue or false - {text(row, 'question')}"
        return as_conversation(self.name, instruction, "true" if answer else "false")
