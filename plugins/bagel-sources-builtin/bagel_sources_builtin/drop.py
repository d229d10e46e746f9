"""drop: discrete reasoning over paragraphs, answered as briefly as possible."""

from __future__ import annotations

from dataclasses import dataclass

from bagel_core import LoadContext, Probability, Source, as_conversation
from bagel_core.readers import field, text, texts

from . import SAMPLES

SYSTEM = "You are a helpful assistant who answers as briefly as possible."


class Drop(Source):
    name = "drop"
    description = "DROP train: passage and question in random order, answer spans joined by ', '"
    priority = 2
    dataset_ids = ("ucinlp/drop",)
    license = "unknown"
    terms = "Licence of ucinlp/drop not verified for this card."
    citation = r"""@inproceedings{dua2019drop,
  title = {DROP: A Reading Comprehension Benchmark Requiring Discrete Reasoning Over Paragraphs},
  author = {Dua, Dheeru and Wang, Yizhong and Dasigi, Pradeep and Stanovsky, Gabriel and Singh, Sameer and Gardner, Matt},
  booktitle = {Proceedings of NAACL-HLT},
  year = {2019}
}"""
    sample_root = SAMPLES
    #: Seeded sample size.
    max_items = 5_000

    @dataclass
    class Options:
        data_files: str = "data/train-*.parquet"
        #: Share of items with the question before the passage.
        question_first_probability: Probability = 0.5

    options: Options

    def rows(self, ctx: LoadContext):
        return ctx.load_dataset(self.dataset_ids[0], data_files={"train": self.options.data_files})

    def convert(self, row, ctx: LoadContext):
        passage, question = text(row, "passage"), text(row, "question")
        spans = texts(field(row, "answers_spans"), "spans")
        if not spans:
            raise ValueError("no answer spans")
        if ctx.coin(f"{passage}\n{question}", "question_first", self.options.question_first_probability):
            instruction = f"{question}\n{passage}"
        else:
            instruction = f"{passage}\n{question}"
        return as_conversation(self.name, instruction, ", ".join(spans), system=SYSTEM)
