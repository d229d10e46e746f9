"""rosetta_code: Rosetta Code tasks solved in many languages (cakiki/rosetta-code)."""

from __future__ import annotations

from bagel_core import LoadContext, Record, Source, as_conversation
from bagel_core.readers import text

from . import SAMPLES
from .humaneval_filter import HUMANEVAL_ID, HumanEvalFilter

DATASET = "cakiki/rosetta-code"
#: The data file(s), named: the repository root also holds logs.txt (213 MB) and dataset_infos.json.
DATA_FILES = {"train": "data/train-*.parquet"}


class RosettaCode(Source):
    name = "rosetta_code"
    description = "Rosetta Code task + language -> code (HumanEval overlap removed, seeded sample)"
    priority = 2
    dataset_ids = (DATASET, HUMANEVAL_ID)
    license = "unknown"
    terms = "Licence of cakiki/rosetta-code not verified for this card; openai_humaneval is only used for filtering."
    sample_root = SAMPLES
    #: Seeded sample (v0.2: 25,000; HEAD: 75,000).
    max_items = 25_000

    def setup(self, ctx: LoadContext) -> None:
        self.humaneval = HumanEvalFilter.load(ctx)

    def rows(self, ctx: LoadContext):
        return ctx.load_dataset(DATASET, data_files=DATA_FILES)

    def convert(self, row, ctx: LoadContext) -> Record | None:
        language, task, code = (text(row, k) for k in ("language_name", "task_description", "code"))
        if self.humaneval.matches(code):
            ctx.filter("humaneval overlap")
            return None
        return as_conversation(self.name, f"Create a solution in {language} to the following:\n{task}", code)
