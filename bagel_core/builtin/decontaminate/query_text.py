"""Which texts of an item a decontaminator checks: its *views*.

An item is checked by several views, each named in the report:

- ``turn1``, ``turn2``, ...: the human turns (the DPO prompt is ``turn1``), or only the first
  one with ``query_text = "first"`` (the reference's choice);
- ``answer1``, ...: the assistant turns (a DPO pair's chosen and rejected answers), compared
  with the benchmarks' ``answer`` views (reference solutions), when ``answers`` is on;
- ``turn1#w2``, ...: windows over a long human turn (more than :data:`WINDOW_WORDS` words), when
  ``windows`` is on: its lines, a line longer than the window cut into windows of
  :data:`WINDOW_WORDS` words every :data:`WINDOW_STRIDE`, and its last lines up to the window's
  size (a question and its choices after a passage). One vector of a whole long text dilutes
  a question inside it; a window does not;
- ``turn1#doc1``, ``answer1#doc1``, ...: the prose of each docstring of the Python functions
  in a turn or an answer (examples cut), when ``docstrings`` is on: a program that restates a
  benchmark task in its own words carries the task there, diluted in the whole text by code.
  Always of role ``prompt`` (compared with the benchmarks' task statements).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

from bagel_core.builtin.decontaminate.code_match import function_docstrings
from bagel_core.components import Query

#: ``first``: :attr:`Query.text` only; ``all``: every human turn.
QueryText = Literal["first", "all"]
#: Words per window; benchmark questions are mostly shorter.
WINDOW_WORDS = 64
WINDOW_STRIDE = 32
#: A window or line shorter than this (a lone choice, "Answer:") is not a view of its own.
MIN_WINDOW_WORDS = 5


@dataclass(frozen=True)
class QueryView:
    """One checked text of an item."""

    name: str
    text: str
    #: ``prompt`` (a human turn or a window of one) or ``answer``.
    role: Literal["prompt", "answer"]
    #: Words (whitespace-separated) when the view also has windows among the views (a long
    #: human turn), else 0: a matcher may leave such a turn to its windows.
    windowed_words: int = 0


def texts_of(query: Query, which: QueryText) -> tuple[str, ...]:
    """The non-blank human turns of ``query`` to check."""
    texts = (query.text,) if which == "first" else (query.human_turns or (query.text,))
    return tuple(t for t in texts if t and t.strip())


def windows(text: str) -> list[str]:
    """The windows of a text longer than :data:`WINDOW_WORDS` words (none for a shorter one)."""
    if len(text.split()) <= WINDOW_WORDS:
        return []
    lines = [line for line in text.split("\n") if line.strip()]
    out: list[str] = []
    for line in lines if len(lines) > 1 else [text]:
        ws = line.split()
        if len(ws) < MIN_WINDOW_WORDS:
            continue
        if len(ws) <= WINDOW_WORDS:
            out.append(line.strip())
            continue
        for start in range(0, len(ws) - WINDOW_STRIDE, WINDOW_STRIDE):
            out.append(" ".join(ws[start : start + WINDOW_WORDS]))
    tail: list[str] = []
    for line in reversed(lines):
        if sum(len(t.split()) for t in tail) + len(line.split()) > WINDOW_WORDS:
            break
        tail.insert(0, line)
    if len(tail) > 1:
        out.append("\n".join(tail))
    return list(dict.fromkeys(out))


def query_views(
    query: Query, which: QueryText, answers: bool, with_windows: bool, docstrings: bool = False
) -> list[QueryView]:
    """The views of ``query`` to check, in a stable order."""
    out: list[QueryView] = []
    groups = [("turn", "prompt", texts_of(query, which))]
    if answers:
        groups.append(("answer", "answer", tuple(t for t in query.answers if t and t.strip())))
    for prefix, role, texts in groups:
        for number, text in enumerate(texts, 1):
            name = f"{prefix}{number}"
            parts = windows(text) if with_windows and role == "prompt" else []
            out.append(QueryView(name, text, role, len(text.split()) if parts else 0))  # type: ignore[arg-type]
            out += [QueryView(f"{name}#w{i}", w, role) for i, w in enumerate(parts, 1)]  # type: ignore[arg-type]
            if docstrings:
                found = [d for d in function_docstrings(text) if len(d.split()) >= MIN_WINDOW_WORDS]
                out += [QueryView(f"{name}#doc{i}", d, "prompt") for i, d in enumerate(found, 1)]
    return out
