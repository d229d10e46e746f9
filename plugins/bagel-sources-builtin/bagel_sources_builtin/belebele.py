"""belebele: multilingual reading comprehension; the passage and question, answered with the
text of the correct option (the options are not shown).

Belebele has no training split: these rows are the benchmark's evaluation data (every language
variant), as in the reference; the source's metadata says so.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from bagel_core import LoadContext, Source, as_conversation
from bagel_core.readers import text

from . import SAMPLES


class Belebele(Source):
    name = "belebele"
    description = "Belebele (EVALUATION data, all 122 variants): passage + question -> answer text"
    priority = 2
    dataset_ids = ("facebook/belebele",)
    license = "cc-by-sa-4.0"
    citation = r"""@article{bandarkar2023belebele,
  title = {The Belebele Benchmark: a Parallel Reading Comprehension Dataset in 122 Language Variants},
  author = {Bandarkar, Lucas and Liang, Davis and Muller, Benjamin and Artetxe, Mikel and Shukla, Satya Narayan and Husa, Donald and Goyal, Naman and Krishnan, Abhinandan and Zettlemoyer, Luke and Khabsa, Madian},
  journal = {arXiv preprint arXiv:2308.16884},
  year = {2023}
}"""
    sample_root = SAMPLES
    languages = ("multilingual",)  # 122 language variants of the same passages
    #: Seeded sample per language variant (of 900 each).
    max_items = 300
    cap_per_stratum = True

    @dataclass
    class Options:
        #: One JSON-lines file per language variant; each row names its variant in `dialect`.
        data_files: str = "data/*.jsonl"

    options: Options

    @classmethod
    def metadata(cls) -> dict[str, Any]:
        return {**super().metadata(), "evaluation_data": True}

    def rows(self, ctx: LoadContext):
        # Upstream the variants are configs with a single `test` split; read them all at once.
        return ctx.load_dataset(self.dataset_ids[0], data_files={"train": self.options.data_files})

    def stratum(self, row) -> str:
        return row["dialect"]

    def convert(self, row, ctx: LoadContext):
        text(row, "dialect")  # the sampling stratum must be there
        number = text(row, "correct_answer_num").strip()
        if number not in ("1", "2", "3", "4"):
            raise ValueError(f"correct_answer_num {number!r}")
        instruction = f"{text(row, 'flores_passage')}\n{text(row, 'question')}"
        return as_conversation(self.name, instruction, text(row, f"mc_answer{number}"))
