"""bagel: compose a large, clean, multi-format fine-tuning dataset, and fine-tune on it.

The public API for plugins is what this module exports; it is kept stable.
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

__all__ = [
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
