"""spider: text-to-SQL questions answered with the SQL query (no schema, as the reference)."""

from __future__ import annotations

from dataclasses import dataclass

from bagel_core import LoadContext, Source, as_conversation
from bagel_core.readers import text

from . import SAMPLES

PREAMBLE = "Write a SQL query for the following:"


class Spider(Source):
    name = "spider"
    description = "Spider train: 'Write a SQL query for the following:' + question -> query"
    priority = 1
    dataset_ids = ("xlangai/spider",)
    license = "cc-by-sa-4.0"
    citation = r"""@inproceedings{yu2018spider,
  title = {Spider: A Large-Scale Human-Labeled Dataset for Complex and Cross-Domain Semantic Parsing and Text-to-SQL Task},
  author = {Yu, Tao and Zhang, Rui and Yang, Kai and Yasunaga, Michihiro and Wang, Dongxu and Li, Zifan and Ma, James and Li, Irene and Yao, Qingning and Roman, Shanelle and Zhang, Zilin and Radev, Dragomir},
  booktitle = {Proceedings of EMNLP},
  year = {2018}
}"""
    sample_root = SAMPLES

    @dataclass
    class Options:
        data_files: str = "spider/train-*.parquet"

    options: Options

    def rows(self, ctx: LoadContext):
        return ctx.load_dataset(self.dataset_ids[0], data_files={"train": self.options.data_files})

    def convert(self, row, ctx: LoadContext):
        return as_conversation(self.name, f"{PREAMBLE}\n{text(row, 'question')}", text(row, "query"))
