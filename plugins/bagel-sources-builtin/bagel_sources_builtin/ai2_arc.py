"""ai2_arc: ARC-Challenge science questions with lettered options."""

from __future__ import annotations

from dataclasses import dataclass

from .choices import LabelledChoiceSource


class Ai2Arc(LabelledChoiceSource):
    name = "ai2_arc"
    description = "ARC-Challenge train: science multiple choice, lettered options, answer key (+ text)"
    priority = 3
    dataset_ids = ("allenai/ai2_arc",)
    question_column = "question"

    @dataclass
    class Options(LabelledChoiceSource.Options):
        #: Upstream files of the train split (ARC-Easy is not used).
        data_files: str = "ARC-Challenge/train-*.parquet"
