"""bagel-core's own components (dedupers, decontaminators, trainers), registered through the same hooks
as any third-party plugin. Only class definitions are imported here: heavy libraries load when
a component is used."""

from ..hookspecs import hookimpl


@hookimpl
def register_decontaminators(register):
    """The embedding, n-gram and code decontaminators register here."""
    from .decontaminate_code import CodeDecontaminator
    from .decontaminate_embedding import EmbeddingDecontaminator
    from .decontaminate_ngram import NgramDecontaminator

    register(CodeDecontaminator)
    register(EmbeddingDecontaminator)
    register(NgramDecontaminator)


@hookimpl
def register_dedupers(register):
    """The exact (uuid5 id), minhash and semantic (near-duplicate) dedupers register here."""
    from .dedup_exact import ExactDeduper
    from .dedup_minhash import MinHashDeduper
    from .dedup_semantic import SemanticDeduper

    register(ExactDeduper)
    register(MinHashDeduper)
    register(SemanticDeduper)


@hookimpl
def register_trainers(register):
    """The sft, dpo, orpo and kto trainers register here."""
    from .train_dpo import DPO
    from .train_prefs import KTO, ORPO
    from .train_sft import SFT

    register(SFT)
    register(DPO)
    register(ORPO)
    register(KTO)
