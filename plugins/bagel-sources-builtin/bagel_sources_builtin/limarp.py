"""limarp: LimaRP-augmented role-play conversations (reference HEAD), greeting folded into the
system prompt as for pippa, cut to fit a 4,096-token context."""

from __future__ import annotations

from dataclasses import dataclass

from bagel_core import LoadContext, Source, Turn, sft_item
from bagel_core.refusals import RefusalPatterns

from . import SAMPLES
from .roleplay import roleplay_turns
from .tokens import MISTRAL, TokenCounter, token_counter

DATASET = "grimulkan/LimaRP-augmented"
#: The fewest turns a cut conversation keeps (the reference never cut below four).
MIN_TURNS = 4


def fit(turns: list[Turn], budget: int, count: TokenCounter) -> list[Turn] | None:
    """The longest prefix of ``turns`` of at least :data:`MIN_TURNS` turns that ends with a gpt
    turn and whose turns count under ``budget`` tokens (each turn counted on its own, so the sum
    errs on the long side); None when even the shortest does not fit."""
    total, best = 0, None
    for index, turn in enumerate(turns):
        total += count(turn["value"])
        if total >= budget:
            break
        if turn["from"] == "gpt" and index + 1 >= MIN_TURNS:
            best = index + 1
    return turns[:best] if best is not None else None


class LimaRP(Source):
    name = "limarp"
    description = (
        "LimaRP-augmented role-play: persona + greeting as system prompt, refusals removed, cut to 4,096 tokens"
    )
    priority = 1
    dataset_ids = (DATASET,)
    license = "unknown"
    terms = "grimulkan/LimaRP-augmented states no licence on its page; the original lemonilia/LimaRP is apache-2.0."
    content_warning = "Role-play conversations; LimaRP-augmented (and the original LimaRP) are tagged Not-For-All-Audiences on the Hub."
    sample_root = SAMPLES

    @dataclass
    class Options:
        #: Token budget of a conversation, and the tokenizer counting it ("approx" available).
        max_tokens: int = 4096
        tokenizer: str = MISTRAL
        #: Refusal patterns tested on all turns (HEAD's, as the reference of that time).
        refusal_patterns: RefusalPatterns = "head"

    options: Options

    def setup(self, ctx: LoadContext) -> None:
        # The counter loads its tokenizer on the first count.
        self.count = token_counter(self.options.tokenizer, ctx)

    def rows(self, ctx: LoadContext):
        # Every file of the dataset: its file layout was not confirmed offline.
        return ctx.load_dataset(DATASET)

    def convert(self, row, ctx: LoadContext):
        folded = roleplay_turns(row, ctx, self.options.refusal_patterns)
        if folded is None:
            return None
        kept = fit(folded, self.options.max_tokens, self.count)
        if kept is None:
            ctx.filter("over the token budget")
            return None
        return sft_item(self.name, kept)
