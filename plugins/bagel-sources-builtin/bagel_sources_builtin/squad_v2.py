"""squad_v2: reading comprehension with unanswerable questions and a "don't know" phrase."""

from __future__ import annotations

from dataclasses import dataclass

from bagel_core import LoadContext, Source, as_conversation
from bagel_core.readers import field, text, texts

from . import SAMPLES

#: One is picked per item; unanswerable items answer with it verbatim.
DONT_KNOW = (
    "IRRELEVANT",
    "DO NOT KNOW",
    "SKIP",
    "I don't know.",
    "The passage does not appear to provide an answer to the question.",
)


def preamble(phrase: str) -> str:
    # Two spaces after "question." as in the reference.
    return (
        "Read the passage of text provided below, then concisely answer the question.  "
        f'If you don\'t know, respond with "{phrase}"'
    )


class SquadV2(Source):
    name = "squad_v2"
    description = "SQuAD 2.0 train: passage + question, first answer or a random 'don't know' phrase"
    priority = 3
    dataset_ids = ("rajpurkar/squad_v2",)
    license = "unknown"
    terms = "Licence of rajpurkar/squad_v2 not verified for this card."
    citation = r"""@inproceedings{rajpurkar2018squad,
  title = {Know What You Don't Know: Unanswerable Questions for SQuAD},
  author = {Rajpurkar, Pranav and Jia, Robin and Liang, Percy},
  booktitle = {Proceedings of ACL},
  year = {2018}
}"""
    sample_root = SAMPLES
    #: Seeded sample size over all rows (25,000 at v0.2 of the reference).
    max_items = 25_000

    @dataclass
    class Options:
        data_files: str = "squad_v2/train-*.parquet"

    options: Options

    def rows(self, ctx: LoadContext):
        return ctx.load_dataset(self.dataset_ids[0], data_files={"train": self.options.data_files})

    def convert(self, row, ctx: LoadContext):
        context, question = text(row, "context"), text(row, "question")
        answers = texts(field(row, "answers"), "text")
        phrase = ctx.choice(f"{context}\n{question}", "dont_know_phrase", DONT_KNOW)
        instruction = f"{preamble(phrase)}\n\n{context}\n\n{question}"
        return as_conversation(self.name, instruction, answers[0] if answers else phrase)
