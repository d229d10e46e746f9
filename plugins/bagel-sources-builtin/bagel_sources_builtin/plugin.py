"""Entry point of bagel-sources-builtin: registers every built-in source and benchmark set."""

from bagel_core import hookimpl

from .airoboros import Airoboros


@hookimpl
def register_sources(register):
    register(Airoboros)
