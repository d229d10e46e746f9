"""ARC-Challenge: each question indexed twice, with all its options and with its answer.

The reference indexed only the validation split; the test split is what models are scored
on, so it is indexed too by default (SOURCES.md §4).
"""

from __future__ import annotations

from dataclasses import dataclass

from bagel_core import BenchmarkText, LoadContext

from .base import HubBenchmark


class ArcChallenge(HubBenchmark):
    name = "arc_challenge"
    description = "ARC-Challenge validation+test: question with options, and question with answer"
    dataset_ids = ("allenai/ai2_arc",)
    groups = ("legacy",)
    config = "ARC-Challenge"
    splits = ("validation", "test")

    @dataclass
    class Options:
        #: Splits to index; ("validation",) is what the reference indexed.
        splits: tuple[str, ...] = ("validation", "test")

    options: Options

    def indexed_splits(self) -> tuple[str, ...]:
        return tuple(self.options.splits)

    def texts_of_row(self, index, row, split, ctx: LoadContext):
        question, choices = row["question"], row["choices"]
        labels, options = choices["label"], choices["text"]
        if not isinstance(question, str) or not question.strip() or len(labels) != len(options) or not options:
            ctx.reject("malformed question or choices")
            return []
        item = f"{split}/{row.get('id') or index}"
        listed = "\n".join(f"{label}. {option}" for label, option in zip(labels, options))
        texts = [BenchmarkText(self.name, f"{item}/options", f"{question}\n{listed}", "question+choices")]
        if row["answerKey"] in labels:
            answer = options[labels.index(row["answerKey"])]
            texts.append(BenchmarkText(self.name, f"{item}/answer", f"{question}\n{answer}", "question+answer"))
        else:
            ctx.reject("answer key not among the labels")
        return texts
