"""emobank: Valence-Arousal-Dominance scores of sentences, answered as JSON.

The upstream is the EmoBank corpus CSV on GitHub (not a Hub dataset); with a data root it is
``ROOT/JULIELab/EmoBank/corpus/emobank.csv``.
"""

from __future__ import annotations

import json
from dataclasses import dataclass

from bagel_core import LoadContext, Source, as_conversation
from bagel_core.readers import csv_rows, text

from . import SAMPLES

URL = "https://raw.githubusercontent.com/JULIELab/EmoBank/master/corpus/emobank.csv"
PROMPT = "Please assign a Valence-Arousal-Dominance (VAD) score in JSON format to the following message:"


class EmoBank(Source):
    name = "emobank"
    description = "EmoBank train rows: message -> JSON {V, A, D} scores (as the CSV's strings)"
    priority = 3
    dataset_ids = ("JULIELab/EmoBank",)
    license = "cc-by-sa-4.0"
    citation = r"""@inproceedings{buechel2017emobank,
  title = {EmoBank: Studying the Impact of Annotation Perspective and Representation Format on Dimensional Emotion Analysis},
  author = {Buechel, Sven and Hahn, Udo},
  booktitle = {Proceedings of EACL},
  year = {2017}
}"""
    sample_root = SAMPLES

    @dataclass
    class Options:
        data_file: str = "corpus/emobank.csv"
        #: Value of the CSV's `split` column to keep.
        split: str = "train"

    options: Options

    def rows(self, ctx: LoadContext):
        path = ctx.dataset_file(self.dataset_ids[0], self.options.data_file, url=URL)
        # Cells stay text: the scores are emitted exactly as written ("3.0", "3.44").
        yield from csv_rows(path, ctx)

    def convert(self, row, ctx: LoadContext):
        if text(row, "split") != self.options.split:
            ctx.filter(f"split {row['split']}")
            return None
        scores = {key: text(row, key).strip() for key in ("V", "A", "D")}
        for value in scores.values():
            float(value)  # ValueError: not a score
        # The CSV text often ends with a stray double quote.
        message = text(row, "text").strip().rstrip('"').rstrip()
        if not message:
            raise ValueError("empty text")
        # The id is the uid of the instruction (the reference used the row id, which kept
        # EmoBank out of dedup).
        return as_conversation(self.name, f"{PROMPT}\n{message}", json.dumps(scores, indent=2))
