"""Entry point of bagel-dpo-builtin: registers every built-in DPO pair builder."""

from bagel_core import hookimpl

from .helpsteer import HelpSteer


@hookimpl
def register_dpo_builders(register):
    register(HelpSteer)
