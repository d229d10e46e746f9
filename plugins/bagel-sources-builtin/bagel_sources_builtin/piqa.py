"""piqa: physical commonsense, two solutions labelled A and B.

PIQA's upstream is the authors' raw files (``train.jsonl`` plus one label per line in
``train-labels.lst``), which the Hub dataset ``ybisk/piqa`` only wraps in a loading script; the
source reads those two files, from a data root or from the authors' site.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from itertools import zip_longest

from bagel_core import LoadContext, Probability, Source, as_conversation
from bagel_core.readers import text

from . import SAMPLES
from .choices import LETTER_ONLY_SUFFIX

URL = "https://yonatanbisk.com/piqa/data/"


class Piqa(Source):
    name = "piqa"
    description = "PIQA train: goal with solutions A/B, answer letter or 'A. <solution>'"
    priority = 3
    dataset_ids = ("ybisk/piqa",)
    license = "afl-3.0"
    citation = r"""@inproceedings{bisk2020piqa,
  title = {PIQA: Reasoning about Physical Commonsense in Natural Language},
  author = {Bisk, Yonatan and Zellers, Rowan and Le Bras, Ronan and Gao, Jianfeng and Choi, Yejin},
  booktitle = {Proceedings of AAAI},
  year = {2020}
}"""
    sample_root = SAMPLES

    @dataclass
    class Options:
        data_file: str = "train.jsonl"
        labels_file: str = "train-labels.lst"
        #: Share of items asking for the letter only (0.25 in the reference, unlike ARC's 0.5).
        letter_only_probability: Probability = 0.25

    options: Options

    def rows(self, ctx: LoadContext):
        paths = [
            ctx.dataset_file(self.dataset_ids[0], name, url=URL + name)
            for name in (self.options.data_file, self.options.labels_file)
        ]
        with open(paths[0], encoding="utf-8") as lines, open(paths[1], encoding="utf-8") as labels:
            # A missing label (or a label without a row) is one malformed row, not the end.
            yield from zip_longest(lines, labels)

    def convert(self, row, ctx: LoadContext):
        line, label = row
        if line is None or label is None:
            raise KeyError("label" if label is None else "row")
        item = json.loads(line)
        label = label.strip()
        if label not in ("0", "1"):
            raise ValueError(f"label {label!r}")
        goal, sol1, sol2 = text(item, "goal"), text(item, "sol1"), text(item, "sol2")
        base = f"{goal}\nA. {sol1}\nB. {sol2}"
        letter = "AB"[int(label)]
        if ctx.coin(base, "letter_only", self.options.letter_only_probability):
            return as_conversation(self.name, f"{base}\n{LETTER_ONLY_SUFFIX}", letter)
        # Unlike ARC the full answer keeps the option's period: "A. <sol1>".
        return as_conversation(self.name, base, f"{letter}. {(sol1, sol2)[int(label)]}")
