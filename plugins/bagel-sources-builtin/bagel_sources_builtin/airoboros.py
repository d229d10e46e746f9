"""airoboros: gpt-4 synthetic instructions across many categories, as ShareGPT conversations."""

from __future__ import annotations

from dataclasses import dataclass

from bagel_core import LoadContext, Source, instruction_text, uid

from . import SAMPLES


class Airoboros(Source):
    name = "airoboros"
    description = "airoboros synthetic instructions (gpt-4), conversations verbatim"
    priority = 1
    dataset_ids = ("unalignment/spicy-3.1",)
    sample_root = SAMPLES

    @dataclass
    class Options:
        #: Upstream file of the v0.2 reference (the one without mathjson rows).
        data_file: str = "conversations-no-mathjson.json"
        #: Categories to leave out (HEAD skips "summarization", which has its own source).
        skip_categories: tuple[str, ...] = ()

    def rows(self, ctx: LoadContext):
        return ctx.load_dataset(self.dataset_ids[0], data_files={"train": self.options.data_file})

    def convert(self, row, ctx: LoadContext):
        category = row["category"]
        if category in self.options.skip_categories:
            ctx.filter(f"category {category}")
            return None
        turns = [{"from": t["from"], "value": t["value"]} for t in row["conversations"]]
        # The id covers the system and human turns, so the same question under a different
        # system prompt is a different item (as in the reference).
        key = "\n".join(t["value"] for t in turns if t["from"] in ("system", "human"))
        return {"id": uid(key), "source": f"airoboros_{category}", "conversations": turns}
