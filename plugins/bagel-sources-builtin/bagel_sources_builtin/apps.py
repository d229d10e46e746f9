"""apps: competitive programming problems with python solutions (codeparrot/apps)."""

from __future__ import annotations

import json
from collections.abc import Iterator
from dataclasses import dataclass

from bagel_core import LoadContext, Record, Source, as_conversation
from bagel_core.readers import json_lines, text

from . import SAMPLES
from .humaneval_filter import HUMANEVAL_ID, HumanEvalFilter

DATASET = "codeparrot/apps"
REVISION = "21e74ddf8de1a21436da12e3e653065c5213e9d1"
PREFIX = "Provide a python solution to the following:"


class Apps(Source):
    name = "apps"
    description = "APPS problems -> first python solution (HumanEval overlap removed)"
    priority = 2
    dataset_ids = (DATASET, HUMANEVAL_ID)
    license = "unknown"
    terms = "Licence of codeparrot/apps not verified for this card; openai_humaneval (MIT) is only used to filter out overlapping problems."
    citation = r"""@inproceedings{hendrycks2021apps,
  title = {Measuring Coding Challenge Competence With APPS},
  author = {Hendrycks, Dan and Basart, Steven and Kadavath, Saurav and Mazeika, Mantas and Arora, Akul and Guo, Ethan and Burns, Collin and Puranik, Samir and He, Horace and Song, Dawn and Steinhardt, Jacob},
  booktitle = {NeurIPS Datasets and Benchmarks Track},
  year = {2021}
}"""
    sample_root = SAMPLES

    @dataclass
    class Options:
        #: The train split's file (5,000 problems; the cards' "10k" counts train and test).
        data_file: str = "train.jsonl"
        #: The Hub commit read (a local copy is read as it is): an open conversion would delete
        #: train.jsonl from the default branch. The id is the one public code cites for this
        #: dataset (its card then: MIT, 5,000 train problems); "main" reads the latest.
        revision: str = REVISION

    options: Options

    def load(self, ctx: LoadContext) -> Iterator[Record]:
        self.humaneval = HumanEvalFilter.load(ctx)
        # Read as a raw file: the repository's loading script makes `datasets` refuse it.
        path = ctx.dataset_file(DATASET, self.options.data_file, revision=self.options.revision)
        for row in json_lines(path, ctx):
            yield from ctx.convert_row(self.convert, row)

    def convert(self, row, ctx: LoadContext):
        question = text(row, "question")
        raw = row["solutions"]
        solutions = json.loads(raw) if isinstance(raw, str) and raw.strip() else []
        if not isinstance(solutions, list) or not solutions or not isinstance(solutions[0], str):
            ctx.reject("no solution")
            return None
        solution = solutions[0]
        if self.humaneval.matches(solution):
            ctx.filter("humaneval overlap")
            return None
        return as_conversation(self.name, f"{PREFIX}\n{question}", solution)
