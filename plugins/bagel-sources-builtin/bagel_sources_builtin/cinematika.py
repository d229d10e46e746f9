"""cinematika: screenplay-derived instructions (character cards, scene summaries) and scene text.

Three parts, as at v0.2: instruction segments (input -> output), scene-by-scene scripts as
plain text, and plain scenes packed into plain-text chunks of at most ``max_tokens`` tokens.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Iterator

from bagel_core import LoadContext, Record, Source, as_conversation, plain_text

from . import SAMPLES
from .fields import text
from .tokens import MISTRAL, TokenCounter, token_counter

DATASET = "jondurbin/cinematika-v0.1"
INSTRUCTION_FILES = (
    "prompt_to_character_card.parquet",
    "rp_to_character_card.parquet",
    "scene_summary.parquet",
    "scene_enhancement.parquet",
)
_SCENE_MARKER = re.compile(r"\[scene\]\s*")


def strip_scene_markers(value: str) -> str:
    """``value`` without ``[scene]`` markers and the whitespace after each."""
    return _SCENE_MARKER.sub("", value)


def pack(scenes: list[str], budget: int, count: TokenCounter) -> Iterator[str]:
    """Consecutive scenes joined by a blank line, each chunk at most ``budget`` tokens.

    A chunk closes before the scene that would overflow it; a single scene over the budget is
    a chunk of its own. The last, partial chunk is emitted too.
    """
    chunk: list[str] = []
    for scene in scenes:
        candidate = "\n\n".join(chunk + [scene])
        if chunk and count(candidate) > budget:
            yield "\n\n".join(chunk)
            chunk = [scene]
        else:
            chunk.append(scene)
    if chunk:
        yield "\n\n".join(chunk)


class Cinematika(Source):
    name = "cinematika"
    description = "cinematika: character-card/scene instructions, scene-by-scene scripts and packed scenes as plain text"
    priority = 3
    dataset_ids = (DATASET,)
    sample_root = SAMPLES

    @dataclass
    class Options:
        instruction_files: tuple[str, ...] = INSTRUCTION_FILES
        scene_by_scene: bool = True
        packed_scenes: bool = True
        #: Token budget of a packed chunk, and the tokenizer counting it ("approx" available).
        max_tokens: int = 4096
        tokenizer: str = MISTRAL

    def _rows(self, ctx: LoadContext, filename: str):
        return ctx.load_dataset(DATASET, data_files={"train": filename})

    def load(self, ctx: LoadContext) -> Iterator[Record]:
        for filename in self.options.instruction_files:
            for row in self._rows(ctx, filename):
                yield from ctx.convert_row(self.instruction, row)
        if self.options.scene_by_scene:
            for row in self._rows(ctx, "scene_by_scene.parquet"):
                yield from ctx.convert_row(self.script, row)
        if self.options.packed_scenes:
            yield from self.packed(ctx)

    def instruction(self, row, ctx: LoadContext) -> Record:
        return as_conversation(self.name, text(row, "input"), text(row, "output"))

    def script(self, row, ctx: LoadContext) -> Record:
        raw = text(row, "scene_by_scene")
        return plain_text(self.name, strip_scene_markers(raw).strip())

    def packed(self, ctx: LoadContext) -> Iterator[Record]:
        scenes: list[tuple[int, str]] = []
        for row in self._rows(ctx, "plain_scenes.parquet"):
            scene, index = row.get("plain_scenes"), row.get("index")
            if not isinstance(scene, str) or not isinstance(index, int) or not scene.strip():
                ctx.reject("plain scene without text or index")
                continue
            scenes.append((index, strip_scene_markers(scene).strip()))
        scenes.sort(key=lambda s: s[0])
        count = token_counter(self.options.tokenizer, ctx)
        for chunk in pack([s for _, s in scenes], self.options.max_tokens, count):
            yield plain_text(self.name, chunk)
