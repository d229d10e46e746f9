"""openbookqa: OpenBookQA elementary science questions, phrased like ai2_arc."""

from __future__ import annotations

from dataclasses import dataclass

from .choices import LabelledChoiceSource


class OpenBookQA(LabelledChoiceSource):
    name = "openbookqa"
    description = "OpenBookQA main train: question stem, lettered options, answer key (+ text)"
    priority = 3
    dataset_ids = ("allenai/openbookqa",)
    license = "apache-2.0"
    citation = r"""@inproceedings{mihaylov2018openbookqa,
  title = {Can a Suit of Armor Conduct Electricity? A New Dataset for Open Book Question Answering},
  author = {Mihaylov, Todor and Clark, Peter and Khot, Tushar and Sabharwal, Ashish},
  booktitle = {Proceedings of EMNLP},
  year = {2018}
}"""
    question_column = "question_stem"

    @dataclass
    class Options(LabelledChoiceSource.Options):
        #: Upstream files of the `main` config's train split (the `additional` facts are unused).
        data_files: str = "main/train-*.parquet"
