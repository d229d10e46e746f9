"""Stage 5: the manifest and the dataset card that go beside the parquet files."""

from __future__ import annotations

from pathlib import Path
from typing import Any, Optional

from .. import card
from ..storage import atomic_path, write_json

MANIFEST = "manifest.json"
CARD = "README.md"
#: The mixture chart the card embeds, written by ``bagel report`` (or the run, with matplotlib).
CHART = "mixture.png"


def write_manifest(out: Path, manifest: dict[str, Any]) -> None:
    write_json(out / MANIFEST, manifest)


def write_card(out: Path, manifest: dict[str, Any], location: Optional[str] = None) -> None:
    """``README.md``: the dataset card (:mod:`bagel_core.card`); ``datasets.load_dataset(out,
    NAME)`` finds every config through its YAML header."""
    text = card.render(out, manifest, location, chart=CHART if (out / CHART).exists() else None)
    with atomic_path(out / CARD) as tmp:
        tmp.write_text(text)
