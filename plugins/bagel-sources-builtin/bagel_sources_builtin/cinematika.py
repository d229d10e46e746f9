"""cinematika: screenplay-derived instructions (character cards, scene summaries) and scene text.

Three parts, as at v0.2: instruction segments (input -> output), scene-by-scene scripts as
plain text, and plain scenes packed into plain-text chunks of at most ``max_tokens`` tokens.
The reference's HEAD (v0.5) kept only the first instruction file, cleaned ``[scene]`` markers
from it, dropped the packing, labelled each part ``cinematika_<part>`` and added three
ready-made conversation files (memories, director, actions); options select either state.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from functools import partial
from typing import Literal

from bagel_core import LoadContext, Record, Source, as_conversation, plain_text, readers, sft_item
from bagel_core.readers import text

from . import SAMPLES
from .tokens import MISTRAL, TokenCounter, token_counter

DATASET = "jondurbin/cinematika-v0.1"
INSTRUCTION_FILES = (
    "prompt_to_character_card.parquet",
    "rp_to_character_card.parquet",
    "scene_summary.parquet",
    "scene_enhancement.parquet",
)
#: HEAD's conversation files (columns id, conversations), each labelled ``cinematika_<name>``.
ConversationFile = Literal["memories", "director", "actions"]
_SCENE_MARKER = re.compile(r"\[scene\]\s*")
#: How packed scenes are joined: ``blank-line`` (bagel: each scene stripped, a blank line
#: between) or ``reference`` (the reference at v0.1/v0.2: each scene as given, after a newline,
#: so a chunk starts with one; markers removed from the whole chunk).
SceneSeparator = Literal["blank-line", "reference"]


def blank_line_join(scenes: list[str]) -> str:
    return "\n\n".join(scenes)


def reference_join(scenes: list[str]) -> str:
    return "".join("\n" + scene for scene in scenes)


def strip_scene_markers(value: str) -> str:
    """``value`` without ``[scene]`` markers and the whitespace after each."""
    return _SCENE_MARKER.sub("", value)


def pack(
    scenes: list[str], budget: int, count: TokenCounter, join: Callable[[list[str]], str] = blank_line_join
) -> Iterator[str]:
    """Consecutive scenes joined by ``join`` (a blank line), each chunk at most ``budget`` tokens.

    A chunk closes before the scene that would overflow it; a single scene over the budget is
    a chunk of its own. The last, partial chunk is emitted too.
    """
    chunk: list[str] = []
    for scene in scenes:
        candidate = join(chunk + [scene])
        if chunk and count(candidate) > budget:
            yield join(chunk)
            chunk = [scene]
        else:
            chunk.append(scene)
    if chunk:
        yield join(chunk)


class Cinematika(Source):
    name = "cinematika"
    description = (
        "cinematika: character-card/scene instructions, scene-by-scene scripts and packed scenes as plain text"
    )
    priority = 3
    dataset_ids = (DATASET,)
    license = "unknown"
    terms = "Licence of jondurbin/cinematika-v0.1 not verified for this card."
    sample_root = SAMPLES

    @dataclass
    class Options:
        instruction_files: tuple[str, ...] = INSTRUCTION_FILES
        scene_by_scene: bool = True
        packed_scenes: bool = True
        #: Token budget of a packed chunk, and the tokenizer counting it ("approx" available).
        max_tokens: int = 4096
        tokenizer: str = MISTRAL
        #: HEAD's conversation files read (none at v0.2; all three at HEAD).
        conversation_files: tuple[ConversationFile, ...] = ()
        #: HEAD's labels: ``cinematika_<instruction file>``, ``cinematika_scenes`` and
        #: ``cinematika_<conversation file>`` instead of ``cinematika`` for everything.
        part_labels: bool = False
        #: Remove ``[scene]`` markers from instruction inputs and outputs too (HEAD).
        clean_instructions: bool = False
        #: Remove ``[scene]`` markers from the plain text (scene-by-scene and packed scenes);
        #: the reference kept them at v0.1 (b93633b) and removed them from v0.2 (4cfa4f0) on.
        clean_plain_text: bool = True
        #: How packed scenes are joined (see :data:`SceneSeparator`); the chunk boundaries are
        #: bagel's either way (the reference's packing bugs are not reproduced).
        scene_separator: SceneSeparator = "blank-line"

    options: Options

    def _label(self, part: str) -> str:
        return f"{self.name}_{part}" if self.options.part_labels else self.name

    def _rows(self, ctx: LoadContext, filename: str):
        return ctx.load_dataset(DATASET, data_files={"train": filename})

    def load(self, ctx: LoadContext) -> Iterator[Record]:
        for filename in self.options.instruction_files:
            label = self._label(filename.removesuffix(".parquet"))
            for row in self._rows(ctx, filename):
                yield from ctx.convert_row(partial(self.instruction, label=label), row)
        if self.options.scene_by_scene:
            for row in self._rows(ctx, "scene_by_scene.parquet"):
                yield from ctx.convert_row(self.script, row)
        if self.options.packed_scenes:
            yield from self.packed(ctx)
        for part in self.options.conversation_files:
            label = self._label(part)
            for row in self._rows(ctx, f"{part}.parquet"):
                yield from ctx.convert_row(partial(self.conversation, label=label), row)

    def conversation(self, row, ctx: LoadContext, label: str) -> Record:
        # The reference kept the upstream id and never deduplicated these; bagel ids them by
        # their human turns like every conversation.
        return sft_item(label, readers.turns(row))

    def instruction(self, row, ctx: LoadContext, label: str) -> Record:
        given, wanted = text(row, "input"), text(row, "output")
        if self.options.clean_instructions:
            given, wanted = strip_scene_markers(given), strip_scene_markers(wanted)
        return as_conversation(label, given, wanted)

    def _clean(self, value: str) -> str:
        return strip_scene_markers(value) if self.options.clean_plain_text else value

    def script(self, row, ctx: LoadContext) -> Record:
        raw = text(row, "scene_by_scene")
        # v0.1 kept the text as given (markers included).
        return plain_text(
            self._label("scenes"), strip_scene_markers(raw).strip() if self.options.clean_plain_text else raw
        )

    def packed(self, ctx: LoadContext) -> Iterator[Record]:
        reference = self.options.scene_separator == "reference"
        scenes: list[tuple[int, str]] = []
        for row in self._rows(ctx, "plain_scenes.parquet"):
            scene, index = row.get("plain_scenes"), row.get("index")
            if not isinstance(scene, str) or not isinstance(index, int) or not scene.strip():
                ctx.reject("plain scene without text or index")
                continue
            scenes.append((index, scene if reference else self._clean(scene).strip()))
        scenes.sort(key=lambda s: s[0])
        count = token_counter(self.options.tokenizer, ctx)
        join = reference_join if reference else blank_line_join
        for chunk in pack([s for _, s in scenes], self.options.max_tokens, count, join):
            # The reference removed the markers from the joined chunk, scenes as given.
            yield plain_text(self.name, self._clean(chunk) if reference else chunk)
