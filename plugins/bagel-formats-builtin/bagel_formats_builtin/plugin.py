"""Entry point of bagel-formats-builtin: registers every built-in prompt format."""

from bagel_core import hookimpl

from .vicuna import Vicuna


@hookimpl
def register_formats(register):
    register(Vicuna)
