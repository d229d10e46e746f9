"""camelai: CAMEL-AI's gpt-4 problem/solution pairs of four expert domains (reference HEAD).

Each of ``camel-ai/chemistry``, ``/physics``, ``/math`` and ``/biology`` holds one archive,
``<domain>.zip`` (the dataset cards: "We provide the data in chemistry.zip"), of one JSON object
per problem; it is read whole and capped per domain: the reference drew 5,000 rows of each,
stratified by topic, after removing refusals.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any, ClassVar, Literal

from bagel_core import LoadContext, Source, as_conversation, is_refusal
from bagel_core.readers import text
from bagel_core.refusals import RefusalPatterns

from . import SAMPLES

Expert = Literal["chemistry", "physics", "math", "biology"]
EXPERTS: tuple[Expert, ...] = ("chemistry", "physics", "math", "biology")
#: Key added to each upstream row: the domain (dataset) it came from, the cap's stratum.
DOMAIN = "_domain"


class CamelAI(Source):
    name = "camelai"
    description = "camel-ai chemistry/physics/math/biology: message_1 -> message_2, refusals removed, 5,000 per domain"
    priority = 2
    dataset_ids = tuple(f"camel-ai/{expert}" for expert in EXPERTS)
    sample_root = SAMPLES
    #: The reference's cap: 5,000 rows per domain (seeded here, by the core's cap).
    max_items: ClassVar[int | None] = 5_000
    cap_per_stratum: ClassVar[bool] = True

    @dataclass
    class Options:
        #: Domains read (the reference's four by default).
        experts: tuple[Expert, ...] = EXPERTS
        #: Refusal patterns tested on the solution (HEAD's, as the reference of that time).
        refusal_patterns: RefusalPatterns = "head"

    options: Options

    def rows(self, ctx: LoadContext) -> Iterator[dict[str, Any]]:
        for expert in self.options.experts:
            archive = {"train": f"{expert}.zip"}
            for row in ctx.iter_rows(ctx.load_dataset(f"camel-ai/{expert}", data_files=archive)):
                yield {**row, DOMAIN: expert}

    def stratum(self, row: dict[str, Any]) -> str:
        return row[DOMAIN]

    def convert(self, row, ctx: LoadContext):
        problem, solution = text(row, "message_1"), text(row, "message_2")
        if is_refusal(solution, self.options.refusal_patterns):
            ctx.filter("refusal")
            return None
        return as_conversation(self.name, problem, solution)
