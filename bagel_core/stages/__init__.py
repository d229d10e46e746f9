"""The pipeline stages, in order: load -> dedup -> decontaminate -> render -> write.

Each stage reads the previous stage's files from the work directory and writes its own under a
fingerprint of everything its output depends on, so a rerun reuses what is unchanged and a
killed run resumes from the last finished piece.
"""

from dataclasses import dataclass
from typing import Any

import pyarrow as pa

from ..records import RECORD_SCHEMA


@dataclass(frozen=True)
class Configured:
    """A component class with its checked options: what a stage makes its instances from."""

    cls: Any
    options: Any


#: What flows between stages: the record schema plus ``origin``, the component that loaded it.
WORK_SCHEMA = RECORD_SCHEMA.append(pa.field("origin", pa.string()))
SFT_WORK_SCHEMA = pa.schema([WORK_SCHEMA.field(n) for n in ("id", "source", "origin", "conversations", "text")])
DPO_WORK_SCHEMA = pa.schema(
    [WORK_SCHEMA.field(n) for n in ("id", "source", "origin", "prompt", "chosen", "rejected", "system")]
)
