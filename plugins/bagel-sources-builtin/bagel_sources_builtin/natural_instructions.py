"""natural_instructions: Super-NaturalInstructions tasks, sampled down stratified by task."""

from __future__ import annotations

from dataclasses import dataclass

from bagel_core import LoadContext, Source, as_conversation
from bagel_core.readers import text

from . import SAMPLES


class NaturalInstructions(Source):
    name = "natural_instructions"
    description = "Natural Instructions train: definition + inputs -> targets, stratified by task"
    priority = 1
    dataset_ids = ("Muennighoff/natural-instructions",)
    license = "unknown"
    terms = "Licence of the Muennighoff/natural-instructions copy not verified for this card."
    citation = r"""@inproceedings{wang2022supernaturalinstructions,
  title = {Super-NaturalInstructions: Generalization via Declarative Instructions on 1600+ NLP Tasks},
  author = {Wang, Yizhong and Mishra, Swaroop and others},
  booktitle = {Proceedings of EMNLP},
  year = {2022}
}"""
    sample_root = SAMPLES
    languages = ("en", "multilingual")  # mostly English tasks, and tasks in about 55 other languages
    #: Items kept, each task keeping its share (50,000 at v0.2 of the reference, 30,000 at HEAD).
    max_items = 50_000

    @dataclass
    class Options:
        #: One JSON-lines file per task, ``train/<task>_train.jsonl`` (the dataset's get_ni.py).
        data_files: str = "train/*.jsonl"

    options: Options

    def rows(self, ctx: LoadContext):
        return ctx.load_dataset(self.dataset_ids[0], data_files={"train": self.options.data_files})

    def stratum(self, row) -> str:
        return row["task_name"]

    def convert(self, row, ctx: LoadContext):
        text(row, "task_name")  # the sampling stratum must be there
        instruction = f"{text(row, 'definition')}\n{text(row, 'inputs')}"
        return as_conversation(self.name, instruction, text(row, "targets"))
