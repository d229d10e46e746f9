"""Entry point of bagel-dpo-builtin: registers every built-in DPO builder."""

from bagel_core import hookimpl

from .airoboros_rewrites import AiroborosRewrites
from .contextual_dpo import ContextualDPO
from .gutenberg_dpo import GutenbergDPO
from .helpsteer import HelpSteer
from .lmsys_chat import LmsysChatDPO
from .orca_dpo_pairs import OrcaDPOPairs
from .py_dpo import PyDPO
from .toxic_dpo import ToxicDPO
from .truthy_dpo import TruthyDPO
from .ultrafeedback import UltraFeedback


@hookimpl
def register_dpo_builders(register):
    for builder in (AiroborosRewrites, HelpSteer, LmsysChatDPO, OrcaDPOPairs, ToxicDPO, TruthyDPO, UltraFeedback):
        register(builder)
    # The later builders of the reference's HEAD (bagel v0.5).
    for builder in (ContextualDPO, GutenbergDPO, PyDPO):
        register(builder)
