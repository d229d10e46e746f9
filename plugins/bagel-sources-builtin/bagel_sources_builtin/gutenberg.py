"""gutenberg: public-domain novels from Project Gutenberg, one plain-text item per chapter."""

from __future__ import annotations

import logging
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path

from bagel_core import DatasetUnavailable, LoadContext, Record, Source, plain_text

from . import SAMPLES
from .chapterize import chapterize

#: Not a Hub dataset: the id names the site folder, so a data root mirrors the URL paths
#: (``ROOT/gutenberg.org/files/<n>/<n>-0.txt``).
DATASET = "gutenberg.org/files"
URL = "https://www.gutenberg.org/files/{n}/{n}-0.txt"

BOOKS = {
    "A Study in Scarlet": 244,
    "A Tale of Two Cities": 98,
    "Anna Karenina": 1399,
    "Frankenstein": 41445,
    "Huckleberry Finn": 76,
    "Madame Bovary": 2413,
    "Middlemarch": 145,
    "Moby Dick": 2701,
    "Pride and Prejudice": 1342,
    "The Brothers Karamazov": 28054,
    "The Turn of the Screw": 209,
    "The War of the Worlds": 36,
    "Through the Looking Glass": 12,
    "Treasure Island": 120,
    "Uncle Tom’s Cabin": 203,
    "Wuthering Heights": 768,
}

log = logging.getLogger(__name__)


def backoff(tries: int, cap: float = 90.0) -> list[float]:
    """Waits between ``tries`` download attempts: Fibonacci seconds, each at most ``cap``.

    >>> backoff(6)
    [1, 1, 2, 3, 5]
    """
    waits, a, b = [], 1, 1
    for _ in range(max(tries - 1, 0)):
        waits.append(min(a, cap))
        a, b = b, a + b
    return waits


def downloads(ctx: LoadContext) -> bool:
    """True when books come from gutenberg.org rather than a data root or the samples.

    Offline (``HF_DATASETS_OFFLINE=1``) nothing is downloaded, so there is nothing to retry.
    """
    import datasets

    return ctx.data.hub and ctx.data.local_dir(DATASET) is None and not datasets.config.HF_DATASETS_OFFLINE


def fetch(ctx: LoadContext, number: int, tries: int, sleep: Callable[[float], None] = time.sleep) -> Path:
    """The local path of book ``number``: a data-root copy, or downloaded with retries."""
    filename, url = f"{number}/{number}-0.txt", URL.format(n=number)
    for wait in backoff(tries) if downloads(ctx) else []:
        try:
            return ctx.dataset_file(DATASET, filename, url=url)
        except DatasetUnavailable as exc:
            log.info("gutenberg: book %s failed (%s); retrying in %ss", number, exc, wait)
            sleep(wait)
    return ctx.dataset_file(DATASET, filename, url=url)


class Gutenberg(Source):
    name = "gutenberg"
    description = "Project Gutenberg novels split into chapters, as plain text"
    priority = 3
    dataset_ids = (DATASET,)
    license = "other"
    terms = "Project Gutenberg eBooks, public domain in the USA; Project Gutenberg's licence and trademark terms apply to the files as distributed, and copyright elsewhere varies by country."
    sample_root = SAMPLES

    @dataclass
    class Options:
        #: Title -> Gutenberg book number.
        books: dict[str, int] = field(default_factory=lambda: dict(BOOKS))
        #: Books with fewer detected chapters are skipped (chapter detection failed).
        min_chapters: int = 3
        #: Download attempts per book (Fibonacci back-off, waits capped at 90 s), and the pause
        #: between downloaded books, out of courtesy to gutenberg.org.
        max_tries: int = 10
        pause_seconds: float = 5.0

    options: Options

    def load(self, ctx: LoadContext) -> Iterator[Record]:
        missing: list[DatasetUnavailable] = []
        remote = downloads(ctx)
        for index, (title, number) in enumerate(self.options.books.items()):
            if remote and index:
                time.sleep(self.options.pause_seconds)
            try:
                path = fetch(ctx, number, self.options.max_tries)
            except DatasetUnavailable as exc:
                # One unavailable book is skipped (as the reference did); none at all is an error.
                # The samples hold two books: no need to warn about the others there.
                log.log(logging.INFO if ctx.sample else logging.WARNING, "gutenberg: skipping %s: %s", title, exc)
                ctx.reject("book unavailable")
                missing.append(exc)
                continue
            # utf-8-sig: the "-0" files are UTF-8 and often start with a byte order mark.
            book = path.read_text(encoding="utf-8-sig", errors="replace")
            chapters = chapterize(book, self.options.min_chapters)
            if not chapters:
                ctx.filter("chapters not detected")
                continue
            for chapter in chapters:
                yield plain_text(f"gutenberg {title}", chapter)
        if missing and len(missing) == len(self.options.books):
            raise missing[0]
