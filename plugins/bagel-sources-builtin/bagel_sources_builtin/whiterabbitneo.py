"""whiterabbitneo: WhiteRabbitNeo's offensive/defensive security instructions, chapters 1 and 2
(reference HEAD)."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from typing import Literal

from bagel_core import LoadContext, Source, as_conversation, is_refusal
from bagel_core.readers import text
from bagel_core.refusals import RefusalPatterns

from . import SAMPLES

Chapter = Literal["WhiteRabbitNeo/WRN-Chapter-1", "WhiteRabbitNeo/WRN-Chapter-2"]
CHAPTERS: tuple[Chapter, ...] = ("WhiteRabbitNeo/WRN-Chapter-1", "WhiteRabbitNeo/WRN-Chapter-2")


class WhiteRabbitNeo(Source):
    name = "whiterabbitneo"
    description = "WhiteRabbitNeo WRN chapters 1 and 2: instruction -> response, refusals removed"
    priority = 1
    dataset_ids = CHAPTERS
    license = "other"
    terms = "Gated on the Hub: Apache-2.0 plus the WhiteRabbitNeo extended licence, whose usage restrictions (no military use, no use that breaks laws or harms minors, among others) must be accepted; see the dataset page."
    sample_root = SAMPLES

    @dataclass
    class Options:
        #: Chapters read (both, as the reference).
        chapters: tuple[Chapter, ...] = CHAPTERS
        #: Refusal patterns tested on the response (HEAD's, as the reference of that time).
        refusal_patterns: RefusalPatterns = "head"

    options: Options

    def rows(self, ctx: LoadContext) -> Iterator[dict]:
        for chapter in self.options.chapters:
            # Every file of the chapter: the file names were not confirmed offline.
            yield from ctx.iter_rows(ctx.load_dataset(chapter))

    def convert(self, row, ctx: LoadContext):
        instruction, response = text(row, "instruction"), text(row, "response")
        if is_refusal(response, self.options.refusal_patterns):
            ctx.filter("refusal")
            return None
        return as_conversation(self.name, instruction, response)
