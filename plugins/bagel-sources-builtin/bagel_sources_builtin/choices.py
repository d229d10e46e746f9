"""Phrasing shared by the multiple-choice sources (ai2_arc, openbookqa, piqa, mmlu)."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import ClassVar

from bagel_core import LoadContext, Probability, Record, Source, as_conversation
from bagel_core.readers import field, text, texts

from . import SAMPLES

#: Last instruction line of the letter-only variant. The reference wrote "the the" (a typo
#: SOURCES.md asks not to reproduce).
LETTER_ONLY_SUFFIX = "Only output the letter of the correct answer."

#: First instruction line of MMLU's letter-only variant (a prefix there, unlike ARC's suffix).
LETTER_ONLY_PREFIX = "Answer with only the letter of the answer."


def option_lines(labels: Sequence[str], texts: Sequence[str]) -> list[str]:
    """One ``<label>. <text>`` line per option, in upstream order."""
    if len(labels) != len(texts) or not labels:
        raise ValueError("labels and option texts differ in number, or there are none")
    return [f"{label}. {text}" for label, text in zip(labels, texts)]


def labelled_choice_item(
    source: str,
    question: str,
    labels: Sequence[str],
    texts: Sequence[str],
    answer_key: str,
    ctx: LoadContext,
    letter_only_probability: float,
) -> Record:
    """An ARC-style item: the question and its option lines; with probability
    ``letter_only_probability`` (seeded per item) the letter-only suffix line and the bare key as
    response, else the response ``<key> <text>`` (no period after the key, unlike the options).
    """
    answer = texts[list(labels).index(answer_key)]  # ValueError: key not among the labels
    base = "\n".join([question, *option_lines(labels, texts)])
    if ctx.coin(base, "letter_only", letter_only_probability):
        return as_conversation(source, f"{base}\n{LETTER_ONLY_SUFFIX}", answer_key)
    return as_conversation(source, base, f"{answer_key} {answer}")


class LabelledChoiceSource(Source):
    """A source of questions whose ``choices`` column holds parallel ``label``/``text`` lists
    and whose ``answerKey`` names the right label (ai2_arc, openbookqa): they differ only in
    the upstream files and the question column."""

    #: Column of the question text.
    question_column: ClassVar[str] = "question"
    sample_root = SAMPLES

    @dataclass
    class Options:
        #: Upstream files of the train split.
        data_files: str = ""
        #: Share of items asking for the letter only.
        letter_only_probability: Probability = 0.5

    options: Options

    def rows(self, ctx: LoadContext):
        return ctx.load_dataset(self.dataset_ids[0], data_files={"train": self.options.data_files})

    def convert(self, row, ctx: LoadContext) -> Record:
        choices = field(row, "choices")
        return labelled_choice_item(
            self.name,
            text(row, self.question_column),
            texts(choices, "label"),
            texts(choices, "text"),
            text(row, "answerKey"),
            ctx,
            self.options.letter_only_probability,
        )
