"""Split a Project Gutenberg plain-text book into chapters.

The heading detection follows the chapterize tool (JonathanReeve/chapterize) that the reference
ran: "Chapter <n>" lines in any case and enumeration (arabic, roman, number words, ordinals),
and case-sensitive "<ROMAN>. Title" / "<ROMAN>. TITLE" lines; headings fewer than four lines
apart are a table of contents and dropped; the book ends at the Gutenberg footer. On top, the
clean-up the reference adopted before dropping the source: the current footer ends the book
too, hard-wrapped lines are re-joined, rules and illustration/copyright lines are dropped, and
double spaces collapsed.
"""

from __future__ import annotations

import re

_ROMAN = r"(?=[MDCLXVI])M{0,3}(C[MD]|D?C{0,3})(X[CL]|L?X{0,3})(I[XV]|V?I{0,3})"
_TENS = ["twenty", "thirty", "forty", "fifty", "sixty", "seventy", "eighty", "ninety"]
_NUMBER_WORDS = [
    "one",
    "two",
    "three",
    "four",
    "five",
    "six",
    "seven",
    "eight",
    "nine",
    "ten",
    "eleven",
    "twelve",
    "thirteen",
    "fourteen",
    "fifteen",
    "sixteen",
    "seventeen",
    "eighteen",
    "nineteen",
] + _TENS
_ORDINALS = [
    "first",
    "second",
    "third",
    "fourth",
    "fifth",
    "sixth",
    "seventh",
    "eighth",
    "ninth",
    "tenth",
    "eleventh",
    "twelfth",
    "thirteenth",
    "fourteenth",
    "fifteenth",
    "sixteenth",
    "seventeenth",
    "eighteenth",
    "nineteenth",
    "twentieth",
    "thirtieth",
    "fortieth",
    "fiftieth",
    "sixtieth",
    "seventieth",
    "eightieth",
    "ninetieth",
]
_ENUMERATOR = "|".join([r"\d+", _ROMAN, "(" + "|".join(_NUMBER_WORDS) + ")", "(the )?(" + "|".join(_ORDINALS) + ")"])
_CHAPTER = re.compile(f"chapter ({_ENUMERATOR})", re.IGNORECASE)
_ROMAN_TITLE = re.compile(f"{_ROMAN}(\\. | )[A-Z][A-Za-z]")
_END = re.compile(
    r"End of the Project Gutenberg EBook|End of Project Gutenberg's|\*\*\* ?END OF (THE|THIS) PROJECT GUTENBERG",
    re.IGNORECASE,
)
# Headings this close (in lines) are a table of contents.
_TOC_GAP = 4

_DROP_LINE = re.compile(r"^\s*(=+|\[Illustration|\[_Copyright)")
_HEADING_PREFIX = re.compile(rf"^\s*(Chapter|CHAPTER|Section|SECTION|Part|PART)\s+(\d+|{_ROMAN})\b\.?\s*")
# A line break inside a paragraph: before a lower-case letter, or after a line not ending a sentence.
_WRAP = re.compile(r"\n+(?=[a-z])|(?<![.!?\"'’”\n])\n(?!\n)")


def heading_lines(lines: list[str]) -> list[int]:
    """Indices of chapter-heading lines, table-of-contents headings removed."""
    found = [i for i, line in enumerate(lines) if _CHAPTER.match(line) or _ROMAN_TITLE.match(line)]
    close: set[int] = set()
    for a, b in zip(found, found[1:]):
        if b - a < _TOC_GAP:
            close.update((a, b))
    return [i for i in found if i not in close]


def end_line(lines: list[str]) -> int:
    """Index of the first footer line, or the number of lines when there is none."""
    return next((i for i, line in enumerate(lines) if _END.match(line)), len(lines))


def clean_chapter(lines: list[str]) -> str:
    """A chapter's lines as paragraphs: headings, rules and illustration lines gone, wraps joined."""
    kept = [line for line in lines if not _DROP_LINE.match(line)]
    # Leading blank lines and all-capitals lines (titles, subheadings) carry no prose.
    while kept and (not kept[0].strip() or kept[0].strip().upper() == kept[0].strip()):
        kept.pop(0)
    if kept:
        kept[0] = _HEADING_PREFIX.sub("", kept[0])
    body = "\n".join(line.strip() for line in kept).strip()
    body = _WRAP.sub(" ", body)
    body = re.sub(r"\n{3,}", "\n\n", body)
    return re.sub(r" {2,}", " ", body).strip()


def chapterize(book: str, min_chapters: int = 3) -> list[str]:
    """The chapters of ``book`` in order; empty when fewer than ``min_chapters`` are detected."""
    lines = book.splitlines()
    end = end_line(lines)
    headings = [i for i in heading_lines(lines) if i < end]
    if len(headings) < min_chapters:
        return []
    bounds = headings + [end]
    chapters = (clean_chapter(lines[start + 1 : stop]) for start, stop in zip(bounds, bounds[1:]))
    return [c for c in chapters if c]
