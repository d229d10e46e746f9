"""summarization: airoboros-style expert summaries (the cards' "500 samples").

Each upstream instruction wraps the text in ``BEGINCONTEXT`` … ``ENDCONTEXT`` inside the
``BEGININPUT`` block; the source unwraps it so the input block holds the bare text, as in the
card's contextual question answering example.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import dataclass

from bagel_core import LoadContext, Record, Source, as_conversation
from bagel_core.readers import text

from . import SAMPLES
from .caps import capped
from .tokens import MISTRAL, token_counter

DATASET = "mattpscott/airoboros-summarization"
#: The file parts, each read as its own train split and labelled by its part.
PARTS = ("booksum-train", "cnndm-summaries", "mediasum-summaries", "samsum-summaries", "xsum-summaries")
FILE = "expert_summarization_4096-{part}.jsonl"

# The context block (markers and the newlines after each) that ends right before ENDINPUT.
_CONTEXT = re.compile(r"BEGINCONTEXT\n*(.*?)ENDCONTEXT\n*(?=ENDINPUT)", re.DOTALL)


def unwrap_context(instruction: str) -> str | None:
    """The instruction with its context block replaced by the bare text, or None without one."""
    match = _CONTEXT.search(instruction)
    if match is None or "BEGININPUT" not in instruction[: match.start()]:
        return None
    return instruction[: match.start()] + match.group(1) + instruction[match.end() :]


class Summarization(Source):
    name = "summarization"
    description = "airoboros summarization (booksum, cnndm, mediasum, samsum, xsum) in the BEGININPUT format"
    priority = 3
    dataset_ids = (DATASET,)
    license = "unknown"
    terms = "Licence of mattpscott/airoboros-summarization not verified for this card."
    sample_root = SAMPLES

    @dataclass
    class Options:
        #: Seeded draw per file; 100 x 5 files is the card's 500 (the HEAD reference drew 2,000).
        per_file: int = 100
        #: Skip items whose instruction + response exceed this many tokens.
        max_tokens: int = 4000
        #: Tokenizer for the length filter ("approx": four characters per token).
        tokenizer: str = MISTRAL
        parts: tuple[str, ...] = PARTS

    options: Options

    def load(self, ctx: LoadContext) -> Iterator[Record]:
        count = token_counter(self.options.tokenizer, ctx)
        for part in self.options.parts:
            rows = ctx.load_dataset(DATASET, data_files={"train": FILE.format(part=part)})

            def convert(row, ctx: LoadContext, part: str = part) -> Record | None:
                instruction, response = text(row, "instruction"), text(row, "response").strip()
                rewritten = unwrap_context(instruction)
                if rewritten is None:
                    ctx.reject("no BEGINCONTEXT block")
                    return None
                if count(rewritten + response) > self.options.max_tokens:
                    ctx.filter("too many tokens")
                    return None
                return as_conversation(f"airoboros-summarization-{part}", rewritten, response)

            yield from capped(ctx, rows, convert, self.options.per_file, purpose=f"sample {part}")
