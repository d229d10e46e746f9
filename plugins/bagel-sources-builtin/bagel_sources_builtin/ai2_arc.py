"""ai2_arc: ARC-Challenge science questions with lettered options."""

from __future__ import annotations

from dataclasses import dataclass

from .choices import LabelledChoiceSource


class Ai2Arc(LabelledChoiceSource):
    name = "ai2_arc"
    description = "ARC-Challenge train: science multiple choice, lettered options, answer key (+ text)"
    priority = 3
    dataset_ids = ("allenai/ai2_arc",)
    license = "cc-by-sa-4.0"
    citation = r"""@article{clark2018arc,
  title = {Think you have Solved Question Answering? Try ARC, the AI2 Reasoning Challenge},
  author = {Clark, Peter and Cowhey, Isaac and Etzioni, Oren and Khot, Tushar and Sabharwal, Ashish and Schoenick, Carissa and Tafjord, Oyvind},
  journal = {arXiv preprint arXiv:1803.05457},
  year = {2018}
}"""
    question_column = "question"

    @dataclass
    class Options(LabelledChoiceSource.Options):
        #: Upstream files of the train split (ARC-Easy is not used).
        data_files: str = "ARC-Challenge/train-*.parquet"
