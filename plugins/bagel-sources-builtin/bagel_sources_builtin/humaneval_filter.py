"""The HumanEval substring filter shared by apps, python_alpaca and rosetta_code (SOURCES §1.7).

A response is rejected when any HumanEval canonical solution is a substring of it, or it is a
substring of any canonical solution (exact, case-sensitive; so an empty response is rejected).
The test set is read through the source's context, so it comes from the Hub, ``--data-root``
or the plugin's samples exactly like the source's own data.
"""

from __future__ import annotations

from bagel_core import LoadContext

#: Upstream id (formerly ``openai_humaneval``, still found under --data-root: see
#: bagel_core.data.RENAMED) and parquet file of the HumanEval test set (164 problems).
HUMANEVAL_ID = "openai/openai_humaneval"
HUMANEVAL_FILES = {"test": "openai_humaneval/test-00000-of-00001.parquet"}


class HumanEvalFilter:
    """Matches responses against HumanEval's canonical solutions."""

    def __init__(self, solutions: list[str]) -> None:
        self.solutions = solutions

    @classmethod
    def load(cls, ctx: LoadContext) -> HumanEvalFilter:
        test = ctx.load_dataset(HUMANEVAL_ID, split="test", data_files=HUMANEVAL_FILES)
        return cls([s for s in test["canonical_solution"] if isinstance(s, str)])

    def matches(self, response: str) -> bool:
        """True when ``response`` overlaps a canonical solution as a substring, either way."""
        return any(s in response or response in s for s in self.solutions)
