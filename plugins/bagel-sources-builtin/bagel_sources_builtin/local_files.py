"""local: your own data files (JSONL, JSON, parquet) in the common chat shapes, no plugin needed.

Shapes, detected per file from its columns unless ``shape`` is given:

- ``sharegpt``: ``conversations`` = [{"from": "human" | "gpt" | "system", "value": ...}]
- ``messages``: ``messages`` = [{"role": "user" | "assistant" | "system", "content": ...}]
- ``alpaca``: ``instruction``, optional ``input`` (appended after a blank line), ``output``
- ``text``: ``text`` (plain text, trained on whole)

Both chat shapes accept either set of role names. Ids follow the rest of bagel: uid of the
human turns (single turn: of the instruction), uid of the text for plain text.
"""

from __future__ import annotations

import fnmatch
import glob
import hashlib
import itertools
import os
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal

from bagel_core import (
    LoadContext,
    MalformedFile,
    Record,
    RowError,
    Source,
    Turn,
    as_conversation,
    json_lines,
    json_rows,
    plain_text,
    sft_item,
)

from . import SAMPLES

Shape = Literal["sharegpt", "messages", "alpaca", "text"]

#: Role names of both chat shapes, mapped to ShareGPT roles.
ROLE_NAMES = {"system": "system", "human": "human", "user": "human", "gpt": "gpt", "assistant": "gpt"}

#: The column that identifies each shape, in detection order.
SHAPE_COLUMNS = (("conversations", "sharegpt"), ("messages", "messages"), ("instruction", "alpaca"), ("text", "text"))

SUFFIXES = (".jsonl", ".json", ".parquet")


class LocalFiles(Source):
    name = "local"
    description = "your own JSONL/JSON/parquet files: ShareGPT, OpenAI messages, alpaca or plain text"
    # Above every built-in source, so your own items win dedup against the public ones.
    priority = 4
    # Under --sample, with no paths set, it reads one example file of each shape.
    sample_root = SAMPLES

    @dataclass
    class Options:
        #: Files or glob patterns (``~`` expanded; relative to the working directory).
        paths: list[str] = field(default_factory=list)
        #: auto | sharegpt | messages | alpaca | text
        shape: Literal["auto"] | Shape = "auto"
        #: Source label of every item (the ``source`` column of the outputs).
        label: str = "local"

    options: Options

    def files(self, ctx: LoadContext) -> list[Path]:
        """The files to read, in order, each real file once (a file named twice, or reached
        through a symbolic link too, is read the first time); a path or pattern that matches
        nothing is an error."""
        if not self.options.paths and ctx.sample:
            return sorted((SAMPLES / "local").iterdir())
        found: list[Path] = []
        for pattern, files in self.matches():
            if not files:
                raise FileNotFoundError(f"no file matches {pattern!r} (option paths, relative to {Path.cwd()})")
            found.extend(files)
        first: dict[str, Path] = {}  # real path -> the first path reaching it, in order
        for p in found:
            first.setdefault(os.path.realpath(p), p)
        return list(first.values())

    def matches(self) -> list[tuple[str, list[Path]]]:
        """Each entry of ``paths`` with the files it names (see :func:`expand`)."""
        return [(entry, expand(entry)) for entry in self.options.paths]

    def input_fingerprint(self) -> str:
        # The files' names, sizes and times: an edited or added file means a new load.
        digest = hashlib.blake2b(digest_size=12)
        for _, files in self.matches():
            for path in files:
                stat = path.stat()
                digest.update(f"{path.resolve()}\0{stat.st_size}\0{stat.st_mtime_ns}\0".encode())
        return digest.hexdigest()

    def load(self, ctx: LoadContext) -> Iterator[Record]:
        label = self.options.label
        for path in self.files(ctx):
            rows = read_rows(path, ctx)
            # Rows up to the first object, whose columns tell the shape.
            head: list[Any] = []
            first: dict | None = None
            for row in rows:
                head.append(row)
                if isinstance(row, dict):
                    first = row
                    break
            shape: str = self.options.shape
            if shape == "auto":
                # A file without a single object row: any shape rejects every row.
                shape = detect_shape(path, first.keys()) if first is not None else "text"

            def convert(row: Any, _: LoadContext, shaped: Callable[[dict, str], Record] = CONVERTERS[shape]) -> Record:
                return checked(shaped, row, label)

            for row in itertools.chain(head, rows):
                yield from ctx.convert_row(convert, row)


#: The prefix of an explicit glob pattern, with the full syntax (``[...]`` classes too).
GLOB = "glob:"


def expand(entry: str) -> list[Path]:
    """The files an entry of ``paths`` names, sorted.

    - ``glob:PATTERN``: a glob pattern (``*``, ``?``, ``[...]``, ``**`` for any folders).
    - a path that exists is that file, whatever characters its name holds
      (``chats [2024].jsonl``, ``what?.jsonl``);
    - else a path holding ``*`` or ``?`` is a pattern of those (and ``**``); brackets in it are
      literal characters;
    - else it is a file that does not exist (no match).

    Patterns follow symbolic links to folders but never into a folder they are already in, so
    a link loop (``self -> .``) ends; the caller reads each real file once.
    """
    explicit = entry.startswith(GLOB)
    text = str(Path(entry[len(GLOB) :] if explicit else entry).expanduser())
    if not explicit:
        if os.path.lexists(text) or not any(c in text for c in "*?"):
            return [Path(text)] if os.path.isfile(text) else []
        text = text.replace("[", "[[]")
    return sorted(_glob(text))


def _glob(pattern: str) -> Iterator[Path]:
    """Files matching ``pattern`` (``glob`` syntax with ``**``), walking from its longest
    literal prefix with symbolic links followed, each real folder entered once."""
    parts = Path(pattern).parts
    fixed = next((i for i, part in enumerate(parts) if glob.has_magic(part)), len(parts))
    base, rest = Path(*parts[:fixed]) if fixed else Path("."), parts[fixed:]
    if not rest:
        if base.is_file():
            yield base
        return
    depth = None if "**" in rest else len(rest) - 1  # folders below base a match can be in
    top = os.path.realpath(base)
    seen: set[tuple[int, int]] = set()
    for folder, dirs, names in os.walk(base, followlinks=True):
        relative = Path(folder).relative_to(base).parts if folder != str(base) else ()
        try:
            stat = os.stat(folder)
        except OSError:
            dirs[:] = []
            continue
        real = os.path.realpath(folder)
        # A folder already walked (a link loop), or a link up to base or above it (``up -> ..``).
        if (stat.st_dev, stat.st_ino) in seen or (
            relative and (top == real or top.startswith(real.rstrip(os.sep) + os.sep))
        ):
            dirs[:] = []
            continue
        seen.add((stat.st_dev, stat.st_ino))
        if depth is not None and len(relative) >= depth:
            dirs[:] = []
        for name in names:
            if _match(rest, (*relative, name)) and os.path.isfile(os.path.join(folder, name)):
                yield Path(folder, name)


def _match(pattern: tuple[str, ...], parts: tuple[str, ...]) -> bool:
    """Whether path ``parts`` match ``pattern`` components (``**``: any number of folders);
    as in ``glob``, a wildcard does not match a name starting with a dot."""
    if not pattern:
        return not parts
    head, tail = pattern[0], pattern[1:]
    if head == "**":
        return any(
            _match(tail, parts[i:]) for i in range(len(parts) + 1) if not any(p.startswith(".") for p in parts[:i])
        )
    if not parts or (parts[0].startswith(".") and not head.startswith(".")):
        return False
    return fnmatch.fnmatchcase(parts[0], head) and _match(tail, parts[1:])


def checked(convert: Callable[[dict, str], Record], row: Any, label: str) -> Record:
    """``convert(row, label)`` of a row that is an object."""
    if not isinstance(row, dict):
        raise RowError("row is not an object")
    return convert(row, label)


def detect_shape(path: Path, columns: Iterable[str]) -> str:
    """The shape whose identifying column the file has (the first that matches)."""
    for column, shape in SHAPE_COLUMNS:
        if column in columns:
            return shape
    raise ValueError(
        f"cannot tell the shape of {path} from its columns {sorted(columns)}: expected one of "
        f'{", ".join(c for c, _ in SHAPE_COLUMNS)}; or set shape = "sharegpt" | "messages" | "alpaca" | "text"'
    )


def read_rows(path: Path, ctx: LoadContext) -> Iterator[Any]:
    """The rows of one file; a JSON line that is not UTF-8 or not JSON is counted, not fatal;
    an empty or corrupt file is a :class:`~bagel_core.MalformedFile` error naming it."""
    suffix = path.suffix.lower()
    if suffix == ".parquet":
        import pyarrow as pa
        import pyarrow.parquet as pq

        try:
            batches = pq.ParquetFile(path).iter_batches(batch_size=1024)
            for batch in batches:
                yield from batch.to_pylist()
        except (pa.ArrowException, OSError) as exc:
            raise MalformedFile(path, f"not a readable parquet file ({exc})") from None
    elif suffix == ".json":
        # A JSON array (streamed) or, as many ".json" files are, JSON Lines.
        yield from json_rows(path, ctx)
    elif suffix == ".jsonl":
        yield from json_lines(path, ctx)
    else:
        raise ValueError(f"{path}: unsupported file type {suffix!r}; use {', '.join(SUFFIXES)}")


def _turns(turns: Any, role_key: str, text_key: str) -> list[Turn]:
    if not isinstance(turns, list):
        raise RowError("turns are not a list")
    converted: list[Turn] = []
    for turn in turns:
        if not isinstance(turn, dict):
            raise RowError("turn is not an object")
        name = turn.get(role_key)
        if not isinstance(name, str):  # ["user"], 3, null: bad data, never a KeyError or TypeError
            raise RowError("wrong type", f"{role_key} is {type(name).__name__}, not text")
        role = ROLE_NAMES.get(name)
        if role is None:
            raise RowError(f"unknown role {name!r}")
        value: Any = turn.get(text_key)  # checked (text, not empty) by the engine's record validation
        converted.append({"from": role, "value": value})
    return converted


def from_sharegpt(row: dict, label: str) -> Record:
    return sft_item(label, _turns(row["conversations"], "from", "value"))


def from_messages(row: dict, label: str) -> Record:
    return sft_item(label, _turns(row["messages"], "role", "content"))


def from_alpaca(row: dict, label: str) -> Record:
    instruction, extra, output = row["instruction"], row.get("input"), row["output"]
    if not isinstance(instruction, str) or not isinstance(extra, (str, type(None))):
        raise RowError("instruction or input is not a string")
    if extra and extra.strip():
        instruction = f"{instruction}\n\n{extra}"
    return as_conversation(label, instruction, output)


def from_text(row: dict, label: str) -> Record:
    if not isinstance(row["text"], str):
        raise RowError("text is not a string")
    return plain_text(label, row["text"])


CONVERTERS = {"sharegpt": from_sharegpt, "messages": from_messages, "alpaca": from_alpaca, "text": from_text}
