"""mathinstruct: MathInstruct's math problems with worked solutions, stratified by origin."""

from __future__ import annotations

from dataclasses import dataclass

from bagel_core import LoadContext, Source, as_conversation
from bagel_core.readers import text

from . import SAMPLES


class MathInstruct(Source):
    name = "mathinstruct"
    description = "MathInstruct train: instruction -> output, stratified by its source data set"
    priority = 3
    dataset_ids = ("TIGER-Lab/MathInstruct",)
    license = "mit"
    terms = "MIT for the curated set; its subsets keep their own licences (the dataset card lists them, e.g. Camel-Math cc-by-nc-4.0, AQuA-RAT apache-2.0, GSM8K mit)."
    citation = r"""@article{yue2023mammoth,
  title = {MAmmoTH: Building Math Generalist Models through Hybrid Instruction Tuning},
  author = {Yue, Xiang and Qu, Xingwei and Zhang, Ge and Fu, Yao and Huang, Wenhao and Sun, Huan and Su, Yu and Chen, Wenhu},
  journal = {arXiv preprint arXiv:2309.05653},
  year = {2023}
}"""
    sample_root = SAMPLES
    #: Items kept, each `source` keeping its share (50,000 at v0.2 of the reference, 75,000 at
    #: HEAD).
    max_items = 50_000

    @dataclass
    class Options:
        data_files: str = "MathInstruct.json"

    options: Options

    def rows(self, ctx: LoadContext):
        return ctx.load_dataset(self.dataset_ids[0], data_files={"train": self.options.data_files})

    def stratum(self, row) -> str:
        return row["source"]

    def convert(self, row, ctx: LoadContext):
        text(row, "source")  # the sampling stratum must be there
        return as_conversation(self.name, text(row, "instruction"), text(row, "output"))
