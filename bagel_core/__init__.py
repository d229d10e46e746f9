"""bagel: compose a large, clean, multi-format fine-tuning dataset, and fine-tune on it.

The public API for plugins is what this module exports (with :mod:`bagel_core.readers`,
:mod:`bagel_core.testing` and :mod:`bagel_core.train`); it is kept stable: a change a plugin
could notice is listed in CHANGELOG.md, and a changed call keeps working for at least one
release with a ``DeprecationWarning``.
"""

from . import readers
from .components import (
    BenchmarkSet,
    BenchmarkText,
    Component,
    Decontaminator,
    DedupBatch,
    Deduper,
    DPOBuilder,
    Duplicate,
    Loader,
    Match,
    Message,
    PromptFormat,
    Query,
    Source,
    SpecialTokens,
    Trainer,
)
from .context import LoadContext
from .data import DatasetUnavailable
from .hookspecs import hookimpl
from .options import ConfigError, Probability, Range, Secret
from .readers import (
    MalformedFile,
    MissingField,
    RowError,
    RowFailure,
    csv_rows,
    json_lines,
    json_rows,
    parse_json_lines,
)
from .records import (
    Record,
    Turn,
    as_conversation,
    conversation,
    dpo_pair,
    instruction_text,
    plain_text,
    sft_item,
    uid,
)
from .refusals import RefusalPatterns, is_refusal
from .validation import Reason, validate_record

#: The version of the ``bagel-core`` distribution (pyproject.toml reads it from here).
__version__ = "0.2.0"

#: The version of the plugin-facing API (the hooks, the component base classes and what this
#: module, ``readers``, ``testing`` and ``train`` export). The major number changes when a plugin
#: written for the previous one may need a change (CHANGELOG.md says what, and how); the minor
#: number when something is only added. A plugin can check it::
#:
#:     import bagel_core
#:     assert bagel_core.PLUGIN_API_VERSION[0] == 2, "bagel-myplugin needs bagel's plugin API 2.x"
#:
#: 1.0 was bagel-core 0.1.0's; 2.0 is bagel-core 0.2.0's.
PLUGIN_API_VERSION: tuple[int, int] = (2, 0)

__all__ = [
    "PLUGIN_API_VERSION",
    "__version__",
    "BenchmarkSet",
    "BenchmarkText",
    "Component",
    "Decontaminator",
    "DedupBatch",
    "Deduper",
    "Duplicate",
    "DPOBuilder",
    "Loader",
    "Match",
    "Message",
    "PromptFormat",
    "Query",
    "Source",
    "SpecialTokens",
    "Trainer",
    "LoadContext",
    "ConfigError",
    "Probability",
    "Range",
    "Secret",
    "DatasetUnavailable",
    "hookimpl",
    "Record",
    "Turn",
    "as_conversation",
    "conversation",
    "dpo_pair",
    "instruction_text",
    "plain_text",
    "sft_item",
    "uid",
    "is_refusal",
    "RefusalPatterns",
    "Reason",
    "validate_record",
    "readers",
    "RowError",
    "MissingField",
    "MalformedFile",
    "RowFailure",
    "csv_rows",
    "json_lines",
    "json_rows",
    "parse_json_lines",
]
