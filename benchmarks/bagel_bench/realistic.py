"""A realistic mixture at scale: every SFT source and DPO builder of a recipe, in its upstream
layout, with the real text of ``../shared/data/sources`` and the mixture's per-source sizes.

    python benchmarks/generate.py --realistic --data-root /tmp/bagel-v02 [--items 1800000] [--seed 0]
    bagel run --recipe recipes/bagel-v0.2.toml --data-root /tmp/bagel-v02 --out OUT

The plain generator (:mod:`.generator`) writes word salad for five big sources. This one writes
the whole recipe, shaped like the real data, so that stages whose cost depends on the text
(decontamination above all: real QA-like text reaches the transformer far more often than salad)
are measured on the mixture the recipe composes.

How a file is made: each component's own sample files (``sample_root``, the upstream layout its
tests read) are the templates. Rows are drawn from the template in turn and every prose string
is rewritten with real text: questions with real questions, short answer options with real
answer options, sentences and passages with real sentences (joined to the template's length
times the source's ``scale``), SQL with real Spider queries; markers (``BEGININPUT``, ``USER:``),
labels, short values, code lines and ``_`` placeholders stay as the template has them, so every
loader parses the rows as it parses its sample. Conversations of the chat and role-play sources
grow by repeating their last exchange (``turns``: extra exchanges on average), ids get a row
suffix. Held-out splits (``test``/``validation`` files) and the benchmark sets' files are copied
as they are: they are what decontamination indexes, never training text.

The real text comes only from source rows (EmoBank, MMLU auxiliary train, Spider, and the first
rows of the QA sources' upstream files); never from ``../shared/data/benchmarks`` or
``decontam`` (that would plant contamination). Deterministic: same seed and size, same files.

``ROWS``: rows written per component at full size. Where ``../shared/design/SOURCES.md`` gives
the upstream size it is used; the others are the upstream datasets' published sizes, rounded;
lmsys-chat-1m is written as 50,000 rows (the loaders keep the gpt-4 ones) rather than its 1M,
natural_instructions as 100,000 rows (v0.1's cap; upstream holds millions), belebele as its
122 x 900 rows spread over the three language files of the sample. Sum: 1,971,805 rows, for
the cards' 1,671,822 items after dedup and filters. ``--items N`` scales every count by
N / full size (at least ``MIN_ROWS`` per file).
"""

from __future__ import annotations

import csv
import gzip
import io
import json
import random
import re
import shutil
import textwrap
import zlib
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pyarrow as pa
import pyarrow.parquet as pq

SHARED = Path(__file__).resolve().parents[3] / "shared" / "data" / "sources"


@dataclass(frozen=True)
class Shape:
    """How one component's rows are written: rows at full size, the length factor of its
    prose against its sample's, extra exchanges per conversation on average."""

    rows: int
    scale: float = 1.0
    turns: float = 0.0


#: Per component (the v0.2 recipe's sources and DPO builders): see the module docstring.
ROWS: dict[str, Shape] = {
    # QA with choices, short passages: the samples are real-length rows.
    "ai2_arc": Shape(1_119),
    "boolq": Shape(9_427, scale=2.5),
    "drop": Shape(77_409, scale=2.5),
    "mmlu": Shape(99_842),
    "openbookqa": Shape(4_957),
    "piqa": Shape(16_113),
    "squad_v2": Shape(130_319, scale=2.5),
    "winogrande": Shape(40_398),
    "belebele": Shape(109_800, scale=2.0),
    "natural_instructions": Shape(100_000, scale=1.5),
    "emobank": Shape(10_062),
    # Code.
    "apps": Shape(5_000, scale=2.0),
    "python_alpaca": Shape(22_608, scale=2.0),
    "rosetta_code": Shape(79_000, scale=2.0),
    "spider": Shape(7_000),
    # Instructions and chats: long answers, some multi-turn.
    "slimorca": Shape(517_982, scale=4.0),
    "mathinstruct": Shape(262_039, scale=3.0),
    "synthia": Shape(125_000, scale=4.0),
    "airoboros": Shape(57_000, scale=4.0, turns=0.5),
    "capybara": Shape(16_006, scale=4.0, turns=2.0),
    "lmsys_chat_1m": Shape(50_000, scale=4.0, turns=1.0),
    "cinematika": Shape(9_000, scale=3.0),
    "gutenberg": Shape(16, scale=30.0),  # one file per book of its list, from the sample's
    # Role-play: long multi-turn.
    "bluemoon": Shape(3_300, scale=3.0, turns=15.0),
    "pippa": Shape(16_832, scale=3.0, turns=10.0),
    # DPO.
    "airoboros-rewrites": Shape(41_000, scale=4.0),
    "helpsteer": Shape(35_331, scale=4.0),
    "lmsys-chat-1m-dpo": Shape(50_000, scale=4.0, turns=1.0),
    "orca-dpo-pairs": Shape(12_859, scale=4.0),
    "toxic-dpo": Shape(541, scale=3.0),
    "truthy-dpo": Shape(1_016, scale=3.0),
    "ultrafeedback": Shape(60_829, scale=4.0),
}
FULL = sum(s.rows for s in ROWS.values())
MIN_ROWS = 4
#: Files never rewritten: held-out splits (what benchmark sets index).
HELD_OUT = re.compile(r"(^|[/_-])(test|validation|dev)([-_.]|$)")


# --- the real text -------------------------------------------------------------------------


class RealText:
    """Pools of real text from source rows of ``../shared/data/sources``."""

    def __init__(self, shared: Path = SHARED) -> None:
        sentences: list[str] = []
        questions: list[str] = []
        options: list[str] = []
        self.sql: list[str] = []
        with open(shared / "emobank" / "emobank.csv", newline="", encoding="utf-8") as f:
            sentences += [r["text"].strip() for r in csv.DictReader(f) if len(r["text"].split()) >= 4]
        for path in sorted((shared / "mmlu").rglob("*.csv")):
            with open(path, newline="", encoding="utf-8") as f:
                for row in csv.reader(f):
                    if len(row) < 3:
                        continue
                    question = row[0].strip()
                    # RACE rows hold a passage and its question in one cell.
                    (questions if len(question) < 400 else sentences).append(question)
                    options += [c.strip() for c in row[1:-1] if c.strip()]
        spider = json.loads((shared / "spider" / "dev.json").read_text())
        questions += [r["question"] for r in spider]
        self.sql = sorted({r["query"] for r in spider})
        for path in sorted(shared.rglob("*.jsonl")):
            for line in path.read_text(encoding="utf-8").splitlines():
                row = json.loads(line)
                for key in ("question", "goal", "question_stem"):
                    if isinstance(row.get(key), str):
                        questions.append(row[key])
                for key in ("passage", "context"):
                    if isinstance(row.get(key), str):
                        sentences += split_sentences(row[key])
        self.sentences = sorted(set(s for s in sentences if s))
        self.questions = sorted(set(q.strip() for q in questions if q.strip()))
        self.options = sorted(set(options))


def split_sentences(text: str) -> list[str]:
    return [s.strip() for s in re.split(r"(?<=[.!?])\s+", text) if len(s.split()) >= 4]


# --- rewriting one value ---------------------------------------------------------------------

_PREFIX = re.compile(r"^(\s*(?:[A-Za-z][A-Za-z ]{0,18}:|[-*•]|\(?[0-9A-Ga-g][.)])\s+)?(.*)$", re.S)
_CODE = re.compile(r"[{}();=<>\[\]#`\\]|^\s{2,}")
_ID_KEYS = re.compile(r"(^|_)id$")


class Rewriter:
    """Rewrites a template's values for one pass through its rows (``cycle``). A value's
    rewrite depends only on the seed, the cycle and the value, so rows that share a text in the
    templates (a prompt and its pairs, the same instruction in two files of one dataset,
    planted duplicates) share it in the copy; the next pass rewrites them anew."""

    def __init__(self, text: RealText, seed: int, scale: float, turns: float = 0.0) -> None:
        self.text, self.seed, self.scale, self.turns = text, seed, scale, turns
        self.cycle = 0
        self.rng = random.Random(0)

    def _pick(self, pool: list[str]) -> str:
        return pool[self.rng.randrange(len(pool))]

    def _sentences(self, length: int) -> str:
        out, size = [], 0
        while size < length or not out:
            s = self._pick(self.text.sentences)
            out.append(s)
            size += len(s) + 1
        return " ".join(out)

    def line(self, line: str) -> str:
        match = _PREFIX.match(line)
        prefix, body = match.group(1) or "", match.group(2)
        words = body.split()
        # Labels and markers stay: one word, or a few without a sentence's end.
        short = len(words) < 2 or (len(words) < 4 and body.rstrip()[-1:] not in ".?!")
        if short or _CODE.search(body) or body.isupper():
            return line
        if body.rstrip().endswith("?"):
            # A real question, after real sentences to the template's length (and half the
            # time one even after a short one): the rows stay distinct, as upstream rows are.
            question = self._pick(self.text.questions)
            room = int(len(body) * self.scale) - len(question)
            lead = self._sentences(room) if room > 40 else self._sentences(1) if self.rng.random() < 0.5 else ""
            new = f"{lead} {question}".strip()
        elif len(words) <= 12 and body.rstrip()[-1:] not in ".!":
            new = self._pick(self.text.options)
        else:
            target = int(len(body) * self.scale * self.rng.lognormvariate(0.0, 0.4))
            new = self._sentences(target)
        if " _ " in f" {body} ":  # a fill-in-the-blank placeholder (winogrande)
            parts = new.split()
            parts[self.rng.randrange(len(parts))] = "_"
            new = " ".join(parts)
        return prefix + new

    def string(self, value: str) -> str:
        self.rng = random.Random(f"{self.seed}/{self.cycle}/{value}")
        return self._string(value)

    def _string(self, value: str) -> str:
        if value.lstrip().upper().startswith(("SELECT", "WITH ")) and "?" not in value:
            return self._pick(self.text.sql)
        return "\n".join(self.line(line) for line in value.split("\n"))

    def value(self, value: Any, key: str = "") -> Any:
        if isinstance(value, str):
            return value if _ID_KEYS.search(key) else self.string(value)
        if isinstance(value, dict):
            return {k: self.value(v, k) for k, v in value.items()}
        if isinstance(value, list):
            items = [self.value(v, key) for v in value]
            return self._longer(items)
        return value

    def _longer(self, items: list[Any]) -> list[Any]:
        """A conversation (a list of turns with roles) with its last exchange repeated."""
        if len(items) < 2 or not all(isinstance(t, dict) for t in items):
            return items
        role = next((k for k in ("from", "role") if k in items[-1]), None)
        if role is None or items[-1].get(role) == items[-2].get(role) or self.turns <= 0:
            return items
        self.rng = random.Random(f"{self.seed}/{self.cycle}/turns/{items[-1]}")
        for _ in range(int(self.rng.expovariate(1 / self.turns))):
            items += [self.value(items[-2]), self.value(items[-1])]
        return items


# --- files ------------------------------------------------------------------------------------


def _read(path: Path) -> tuple[list[Any], Any] | None:
    """Rows of a template file and what is needed to write them back; None: not rows."""
    name = path.name
    if name.endswith(".parquet"):
        table = pq.read_table(path)
        return table.to_pylist(), table.schema
    if name.endswith(".jsonl.gz"):
        return _json_lines(gzip.decompress(path.read_bytes()).decode()), None
    if name.endswith(".jsonl"):
        return _json_lines(path.read_text(encoding="utf-8")), None
    if name.endswith(".json"):
        data = json.loads(path.read_text(encoding="utf-8"))
        return (data, None) if isinstance(data, list) else None
    if name.endswith(".csv"):
        with open(path, newline="", encoding="utf-8") as f:
            reader = csv.DictReader(f)
            return list(reader), reader.fieldnames
    return None


def _json_lines(text: str) -> list[Any]:
    """The parseable lines (the samples are test fixtures: some lines are malformed on purpose,
    and those are not what an upstream file is made of)."""
    rows = []
    for line in text.splitlines():
        try:
            rows.append(json.loads(line))
        except json.JSONDecodeError:
            continue
    return rows


def _write(path: Path, rows: list[Any], meta: Any) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    name = path.name
    if name.endswith(".parquet"):
        pq.write_table(pa.Table.from_pylist(rows, schema=meta), path)
    elif name.endswith(".jsonl.gz"):
        text = "".join(json.dumps(r, ensure_ascii=False) + "\n" for r in rows).encode()
        path.write_bytes(gzip.compress(text, mtime=0))
    elif name.endswith(".jsonl"):
        path.write_text("".join(json.dumps(r, ensure_ascii=False) + "\n" for r in rows), encoding="utf-8")
    elif name.endswith(".json"):
        path.write_text(json.dumps(rows, ensure_ascii=False, indent=1), encoding="utf-8")
    elif name.endswith(".csv"):
        out = io.StringIO()
        writer = csv.DictWriter(out, fieldnames=meta, lineterminator="\n")
        writer.writeheader()
        writer.writerows(rows)
        path.write_text(out.getvalue(), encoding="utf-8")


def _majority(dicts: list[dict]) -> set[str]:
    keys: set[str] = set().union(*map(set, dicts)) if dicts else set()
    return {k for k in keys if 2 * sum(k in d for d in dicts) > len(dicts)}


def _complete(rows: list[Any]) -> list[Any]:
    """The template rows without the samples' deliberate defects: a field most rows have
    missing or empty, a turn without a field most turns have or with an empty text (the
    loaders reject those; an upstream file holds few)."""
    dicts = [r for r in rows if isinstance(r, dict)]
    turns = [t for r in dicts for v in r.values() if isinstance(v, list) for t in v if isinstance(t, dict)]
    row_keys, turn_keys = _majority(dicts), _majority(turns)
    texts = {k for k in turn_keys if 2 * sum(isinstance(t.get(k), str) for t in turns) > len(turns)}

    def filled(value: Any) -> bool:
        if value is None or value == "" or value == []:
            return False
        if isinstance(value, list):
            return all(
                not isinstance(t, dict)
                or (turn_keys <= t.keys() and all(isinstance(t[k], str) and t[k] for k in texts))
                for t in value
            )
        return True

    # Only fields most rows fill count (an upstream column may be empty throughout).
    needed = {k for k in row_keys if 2 * sum(filled(r.get(k)) for r in dicts) > len(dicts)}
    good = [r for r in dicts if all(filled(r.get(k)) for k in needed)]
    return good or rows


def _size(folder: Path) -> int:
    return sum(p.stat().st_size for p in folder.rglob("*") if p.is_file())


def write_file(template: Path, target: Path, rows: int, shape: Shape, text: RealText, seed: int) -> list[int] | None:
    """``rows`` rows drawn in turn from ``template`` and rewritten into ``target``; returns the
    template row of each (for a companion file: piqa's labels), None if copied as it is."""
    found = _read(template)
    if found is None or not found[0]:
        return None
    templates, meta = _complete(found[0]), found[1]
    rewriter = Rewriter(text, seed, shape.scale, shape.turns)
    order = [i % len(templates) for i in range(rows)]
    out = []
    for n, i in enumerate(order):
        rewriter.cycle = n // len(templates)
        row = rewriter.value(templates[i])
        if isinstance(row, dict):
            for key, value in row.items():
                if _ID_KEYS.search(key) and isinstance(value, str):
                    row[key] = f"{value}-r{n}"
        out.append(row)
    _write(target, out, meta)
    return order


def write_book(template: Path, target: Path, scale: float, text: RealText, seed: int, name: str) -> None:
    """A plain-text book: the template's front matter, headings and markers, its prose
    paragraphs rewritten with real sentences ``scale`` times longer and wrapped as Gutenberg's."""
    rewriter = Rewriter(text, seed, scale)
    rewriter.cycle = zlib.crc32(name.encode())  # each book its own text
    paragraphs = template.read_text(encoding="utf-8").split("\n\n")
    out = []
    for paragraph in paragraphs:
        flat = " ".join(paragraph.split())
        prose = len(flat.split()) >= 8 and not flat.isupper() and not flat.startswith(("[", "***", "Title:", "Author:"))
        out.append(textwrap.fill(rewriter.line(flat), 70) if prose else paragraph)
    target.parent.mkdir(parents=True, exist_ok=True)
    target.write_text("\n\n".join(out), encoding="utf-8")


def components(recipe: Path, registry) -> dict[str, type]:
    """The recipe's SFT sources and DPO builders: name -> class."""
    import tomllib

    run = tomllib.loads(recipe.read_text())["run"]
    found = {n: registry.get("source", n).cls for n in run.get("sources", [])}
    found |= {n: registry.get("dpo_builder", n).cls for n in run.get("dpo", [])}
    return found


def generate(
    root: Path, recipe: Path, items: int, seed: int, log: Callable[[str], None] = lambda m: None, shared: Path = SHARED
) -> dict[str, Any]:
    """Write the recipe's components' data under ``root`` at ``items`` / :data:`FULL` of full
    size; returns (and writes to ``root/realistic.json``) the rows written per component and file."""
    from bagel_core.registry import load_plugins

    registry = load_plugins()
    text = RealText(shared)
    factor = items / FULL
    written: dict[str, dict[str, int]] = {}
    chosen = components(recipe, registry)
    # A dataset two components read is written once (their samples may differ in columns,
    # which one upstream folder cannot hold), by the first of them in the recipe, from the
    # largest of their samples (the DPO builders' samples hold the pairs).
    roots: dict[str, Path] = {}
    for cls in chosen.values():
        for d in cls.dataset_ids:
            here = Path(cls.sample_root or "") / d
            if here.is_dir() and (d not in roots or _size(here) > _size(roots[d] / d)):
                roots[d] = Path(cls.sample_root)
    datasets: set[str] = set()
    for name, cls in chosen.items():
        shape = ROWS.get(name)
        if shape is None:
            raise KeyError(f"realistic generator: no size for component {name!r} (add it to ROWS)")
        ids = [d for d in cls.dataset_ids if d in roots and d not in datasets]
        datasets.update(ids)
        files = [
            (roots[d], p.relative_to(roots[d])) for d in ids for p in sorted((roots[d] / d).rglob("*")) if p.is_file()
        ]
        rewritten = {r for base, r in files if not HELD_OUT.search(str(r)) and _read(base / r) is not None}
        per_file = max(MIN_ROWS, round(shape.rows * factor / max(len(rewritten), 1)))
        written[name] = {}
        orders: dict[Path, list[int]] = {}
        for base, relative in files:
            if relative in rewritten:
                orders[relative.parent] = (
                    write_file(base / relative, root / relative, per_file, shape, text, seed) or []
                )
                written[name][str(relative)] = per_file
        books = getattr(cls.Options(), "books", None) if hasattr(cls, "Options") else None
        if books and files:  # gutenberg: every book of its list, shaped like the sample's
            template = max((base / r for base, r in files), key=lambda p: p.stat().st_size)
            for number in books.values():
                relative = Path(cls.dataset_ids[0]) / str(number) / f"{number}-0.txt"
                write_book(template, root / relative, shape.scale, text, seed, str(relative))
                written[name][str(relative)] = 1
        for base, relative in files:  # companions and held-out files, once the rows they follow exist
            target = root / relative
            if relative in rewritten or target.exists():
                continue
            target.parent.mkdir(parents=True, exist_ok=True)
            if relative.suffix == ".lst" and orders.get(relative.parent):
                labels = (base / relative).read_text().splitlines()
                target.write_text("".join(labels[i] + "\n" for i in orders[relative.parent]))
            else:
                shutil.copyfile(base / relative, target)
        log(f"{name:22} {sum(written[name].values()):>9,} rows")
    for info in registry.of("benchmark").values():  # decontamination indexes these
        cls = info.cls
        for dataset_id in cls.dataset_ids:
            src = Path(cls.sample_root or "") / dataset_id
            for path in sorted(src.rglob("*")) if cls.sample_root else []:
                target = root / dataset_id / path.relative_to(src)
                if path.is_file() and not target.exists():
                    target.parent.mkdir(parents=True, exist_ok=True)
                    shutil.copyfile(path, target)
    summary = {
        "items": items,
        "seed": seed,
        "recipe": str(recipe),
        "full": FULL,
        "rows": written,
        "pools": {
            "sentences": len(text.sentences),
            "questions": len(text.questions),
            "options": len(text.options),
            "sql": len(text.sql),
        },
    }
    (root / "realistic.json").write_text(json.dumps(summary, indent=1) + "\n")
    return summary
