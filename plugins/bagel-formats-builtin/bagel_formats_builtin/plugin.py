"""Entry point of bagel-formats-builtin: registers every built-in prompt format."""

from bagel_core import hookimpl

from .alpaca import Alpaca
from .chatml import ChatML
from .llama2 import Llama2
from .tokenizer_template import TokenizerChatTemplate
from .vicuna import Vicuna


@hookimpl
def register_formats(register):
    for fmt in (Alpaca, Vicuna, Llama2, ChatML, TokenizerChatTemplate):
        register(fmt)
