"""bagel-core's own components (dedupers, decontaminators, trainers), registered through the same hooks
as any third-party plugin. Only class definitions are imported here: heavy libraries load when
a component is used."""

from bagel_core.hookspecs import hookimpl


@hookimpl
def register_decontaminators(register):
    """The embedding, n-gram and code decontaminators register here."""
    from bagel_core.builtin.decontaminate.code import CodeDecontaminator
    from bagel_core.builtin.decontaminate.embedding import EmbeddingDecontaminator
    from bagel_core.builtin.decontaminate.ngram import NgramDecontaminator

    register(CodeDecontaminator)
    register(EmbeddingDecontaminator)
    register(NgramDecontaminator)


@hookimpl
def register_dedupers(register):
    """The exact (uuid5 id), minhash and semantic (near-duplicate) dedupers register here."""
    from bagel_core.builtin.dedup.exact import ExactDeduper
    from bagel_core.builtin.dedup.minhash import MinHashDeduper
    from bagel_core.builtin.dedup.semantic import SemanticDeduper

    register(ExactDeduper)
    register(MinHashDeduper)
    register(SemanticDeduper)


@hookimpl
def register_trainers(register):
    """The sft, dpo, orpo and kto trainers register here."""
    from bagel_core.builtin.train.dpo import DPO
    from bagel_core.builtin.train.prefs import KTO, ORPO
    from bagel_core.builtin.train.sft import SFT

    register(SFT)
    register(DPO)
    register(ORPO)
    register(KTO)
