"""mmlu: MMLU's auxiliary training set (not the 57 subject test sets), lettered options."""

from __future__ import annotations

from dataclasses import dataclass

from bagel_core import LoadContext, Probability, Source, as_conversation
from bagel_core.readers import integer, text, texts

from . import SAMPLES
from .choices import LETTER_ONLY_PREFIX, option_lines

LETTERS = "ABCDEFG"


class Mmlu(Source):
    name = "mmlu"
    description = "MMLU auxiliary_train: lettered options, answer '<letter> <text>' or letter only"
    priority = 3
    dataset_ids = ("cais/mmlu",)
    license = "mit"
    citation = r"""@inproceedings{hendrycks2021mmlu,
  title = {Measuring Massive Multitask Language Understanding},
  author = {Hendrycks, Dan and Burns, Collin and Basart, Steven and Zou, Andy and Mazeika, Mantas and Song, Dawn and Steinhardt, Jacob},
  booktitle = {International Conference on Learning Representations (ICLR)},
  year = {2021}
}"""
    sample_root = SAMPLES
    #: Seeded sample size (20,000 at v0.2 of the reference, 50,000 at HEAD).
    max_items = 20_000

    @dataclass
    class Options:
        #: Upstream files of config `all`, split `auxiliary_train`.
        data_files: str = "all/auxiliary_train-*.parquet"
        letter_only_probability: Probability = 0.5

    options: Options

    def rows(self, ctx: LoadContext):
        return ctx.load_dataset(self.dataset_ids[0], data_files={"train": self.options.data_files})

    def convert(self, row, ctx: LoadContext):
        question = text(row, "question")
        choices = texts(row, "choices")
        answer = integer(row, "answer")
        if len(choices) > len(LETTERS):
            ctx.filter(f"more than {len(LETTERS)} choices")
            return None
        if not 0 <= answer < len(choices):
            raise ValueError(f"answer {answer} out of range")
        letter = LETTERS[answer]
        base = "\n".join([question, *option_lines(LETTERS[: len(choices)], choices)])
        if ctx.coin(base, "letter_only", self.options.letter_only_probability):
            return as_conversation(self.name, f"{LETTER_ONLY_PREFIX}\n{base}", letter)
        return as_conversation(self.name, base, f"{letter} {choices[answer]}")
