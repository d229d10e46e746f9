"""winogrande: fill-in-the-blank sentences answered with the right option."""

from __future__ import annotations

from dataclasses import dataclass

from bagel_core import LoadContext, Source, as_conversation
from bagel_core.readers import text

from . import SAMPLES


class Winogrande(Source):
    name = "winogrande"
    description = "WinoGrande xl train: the sentence with its blank -> the correct option"
    priority = 3
    dataset_ids = ("allenai/winogrande",)
    license = "unknown"
    terms = "Published under a CC-BY licence whose version is not verified for this card."
    citation = r"""@article{sakaguchi2019winogrande,
  title = {WinoGrande: An Adversarial Winograd Schema Challenge at Scale},
  author = {Sakaguchi, Keisuke and Le Bras, Ronan and Bhagavatula, Chandra and Choi, Yejin},
  journal = {arXiv preprint arXiv:1907.10641},
  year = {2019}
}"""
    sample_root = SAMPLES
    #: Seeded sample size.
    max_items = 10_000

    @dataclass
    class Options:
        data_files: str = "winogrande_xl/train-*.parquet"

    options: Options

    def rows(self, ctx: LoadContext):
        return ctx.load_dataset(self.dataset_ids[0], data_files={"train": self.options.data_files})

    def convert(self, row, ctx: LoadContext):
        answer = text(row, "answer")
        # The reference took option2 for anything but "1", an empty answer included.
        if answer not in ("1", "2"):
            raise ValueError(f"answer {answer!r}")
        return as_conversation(self.name, text(row, "sentence"), text(row, f"option{answer}"))
