"""GPQA diamond: the question, and the question with its four answers. Never written out.

GPQA's authors distribute it so that its questions never appear in plain text on the web (a
password-protected archive, a gated Hub dataset, a canary string in every row). The set is
``redact_text``: a match names the GPQA record and the score, never the text (the decontaminate
stage withholds it), and nothing here puts a row into a message: a bad row is counted by its
record id only.
"""

from __future__ import annotations

from collections.abc import Iterator

from bagel_core import BenchmarkSet, BenchmarkText, LoadContext
from bagel_core.data import DatasetUnavailable
from bagel_core.readers import csv_rows

from .. import SAMPLES

#: The diamond subset of Idavidrein/gpqa (config gpqa_diamond, split train).
FILE = "gpqa_diamond.csv"
ANSWERS = ("Correct Answer", "Incorrect Answer 1", "Incorrect Answer 2", "Incorrect Answer 3")
GATED = "GPQA is gated: accept its terms at https://huggingface.co/datasets/Idavidrein/gpqa and log in (`huggingface-cli login`)"


class Gpqa(BenchmarkSet):
    name = "gpqa"
    description = "GPQA diamond (gpqa_diamond.csv, gated): question; question+choices; text never written out"
    dataset_ids = ("Idavidrein/gpqa",)
    groups = ("current",)
    redact_text = True
    # The shipped sample is synthetic (questions of our own in GPQA's layout): GPQA's own text
    # may not be published, so no repository may hold it.
    sample_root = SAMPLES

    def texts(self, ctx: LoadContext) -> Iterator[BenchmarkText]:
        try:
            path = ctx.dataset_file(self.dataset_ids[0], FILE)
        except DatasetUnavailable as exc:
            # The usual message, and what a gated dataset asks of the user besides.
            raise DatasetUnavailable(exc.dataset_id, f"{exc.detail}; {GATED}", ctx.data.data_root, ctx.sample) from exc
        for index, row in enumerate(csv_rows(path, ctx)):
            item = (row.get("Record ID") or "").strip() or str(index)
            question = row.get("Question")
            answers = [row.get(a) for a in ANSWERS]
            # The position only (no excerpt): a rejected GPQA row must not be quoted anywhere.
            if not isinstance(question, str) or not question.strip():
                ctx.reject("missing or empty text", at=f"{FILE} record {item}")
                continue
            yield BenchmarkText(self.name, item, question.strip(), "question")
            given = [a.strip() for a in answers if isinstance(a, str) and a.strip()]
            if len(given) == len(answers):
                listed = "\n".join(f"{letter}. {a}" for letter, a in zip("ABCD", given))
                yield BenchmarkText(self.name, item, f"{question.strip()}\n{listed}", "question+choices")
            else:
                ctx.reject("missing answers", at=f"{FILE} record {item}")
