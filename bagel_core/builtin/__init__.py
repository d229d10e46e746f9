"""bagel-core's own components (dedupers, decontaminators, trainers), registered through the same hooks
as any third-party plugin. Only class definitions are imported here: heavy libraries load when
a component is used."""

import importlib
import warnings
from collections.abc import Callable
from typing import Any

from bagel_core.hookspecs import hookimpl


def moved(old: str, new: str) -> Callable[[str], Any]:
    """The ``__getattr__`` of a module that moved to ``new`` in bagel-core 0.2 (the trainer
    modules of plugin API 1.0): a name read from it comes from ``new``, with a
    ``DeprecationWarning`` naming where to import it from now. Removed in 0.3."""

    def __getattr__(name: str) -> Any:
        if name.startswith("__"):  # module machinery (__path__, __file__, ...): not a moved name
            raise AttributeError(name)
        value = getattr(importlib.import_module(new), name)
        public = importlib.import_module("bagel_core.train")
        where = "bagel_core.train" if getattr(public, name, None) is value else new
        warnings.warn(
            f"{old}.{name} is deprecated since bagel-core 0.2 and goes in 0.3: import it from {where}",
            DeprecationWarning,
            stacklevel=2,
        )
        return value

    return __getattr__


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
