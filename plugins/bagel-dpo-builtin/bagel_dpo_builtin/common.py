"""What several built-in DPO builders share: the
"responses differ" rule, and the builder for datasets whose pairs are published as columns."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any, ClassVar, Literal, Protocol

from bagel_core import DPOBuilder, LoadContext, Record, conversation, dpo_pair
from bagel_core.readers import optional_text, text

#: When a pair's two responses count as the same (and the pair is dropped): ``folded`` (bagel:
#: equal after letter case and surrounding whitespace are set aside), ``exact`` (equal
#: strings: the reference's toxic, truthy, orca, lmsys, helpsteer and contextual builders) or
#: ``none`` (never: the reference's gutenberg-dpo and py-dpo; the core still rejects identical
#: responses unless the run lists the builder in ``[run] keep_identical_pairs``).
SameResponses = Literal["folded", "exact", "none"]


def differ(chosen: str, rejected: str, rule: SameResponses = "folded") -> bool:
    """True when the two responses differ under ``rule`` (by default beyond letter case and
    surrounding whitespace: a pair that differs only there teaches nothing)."""
    if rule == "none":
        return True
    if rule == "exact":
        return chosen != rejected
    return chosen.strip().lower() != rejected.strip().lower()


class PairsOptions(Protocol):
    """What :class:`PublishedPairs` reads from its subclasses' ``Options``."""

    same_responses: SameResponses


class PublishedPairs(DPOBuilder):
    """A dataset whose rows are pairs already: prompt, chosen and rejected columns, taken as
    they are. Subclasses name the upstream and may add filters in :meth:`keep`; their
    ``Options`` hold ``same_responses`` (:data:`SameResponses`)."""

    #: The ``source`` label of the pairs.
    label: ClassVar[str]
    #: Column holding the prompt.
    prompt_column: ClassVar[str] = "prompt"
    #: Column holding a system prompt kept in the pair's ``system`` field (None: not kept).
    system_column: ClassVar[str | None] = None
    #: The upstream files read (``data_files``; None: what the dataset declares).
    files: ClassVar[dict[str, str] | None] = None

    options: PairsOptions

    def upstream(self) -> tuple[str, dict[str, str] | None]:
        """The dataset id to read and its ``data_files`` (None: what the dataset declares)."""
        return self.dataset_ids[0], self.files

    def rows(self, ctx: LoadContext) -> Iterable[Any]:
        dataset_id, data_files = self.upstream()
        return ctx.load_dataset(dataset_id, data_files=data_files)

    def sft_copy(self) -> bool:
        """Whether each pair is also an SFT item, prompt -> chosen (the same record carries
        both, so one id serves SFT dedup and DPO dedup)."""
        return False

    def keep(self, row: Mapping[str, Any], chosen: str, ctx: LoadContext) -> bool:
        """Builder-specific filters; count what is dropped with ``ctx.filter``."""
        return True

    def convert(self, row: Mapping[str, Any], ctx: LoadContext) -> Record | None:
        prompt, chosen, rejected = text(row, self.prompt_column), text(row, "chosen"), text(row, "rejected")
        if not self.keep(row, chosen, ctx):
            return None
        if not differ(chosen, rejected, self.options.same_responses):
            ctx.filter("chosen equals rejected")
            return None
        system = optional_text(row, self.system_column) if self.system_column else None
        system = system if system and system.strip() else None
        record = dpo_pair(self.label, prompt, chosen, rejected, system=system)
        if self.sft_copy():
            record["conversations"] = conversation(prompt, chosen, system)
        return record
