"""gutenberg: chapterized books as plain text, cleaned; missing books skipped and counted."""

import pytest
from sources_testkit import load

from bagel_core import DatasetUnavailable, uid
from bagel_core.testing import load_context
from bagel_sources_builtin.chapterize import chapterize, heading_lines
from bagel_sources_builtin.gutenberg import Gutenberg, backoff, fetch

BOOK = """Title: Sample

CONTENTS
Chapter 1
Chapter 2
Chapter 3



CHAPTER 1
The First Day

It was a bright cold day in April, and
the clocks were striking eleven.

Chapter Two

[Illustration: a clock]

She said nothing
more.

Chapter the Third

THE END OF IT ALL

Nothing  remained.
*** END OF THE PROJECT GUTENBERG EBOOK SAMPLE ***
Licence text that must not survive.
"""


def test_table_of_contents_is_ignored():
    lines = BOOK.splitlines()
    assert [lines[i] for i in heading_lines(lines)] == ["CHAPTER 1", "Chapter Two", "Chapter the Third"]


def test_chapters_are_cleaned_and_end_at_the_footer():
    assert chapterize(BOOK) == [
        "The First Day\n\nIt was a bright cold day in April, and the clocks were striking eleven.",
        "She said nothing more.",
        "Nothing remained.",
    ]
    assert chapterize("no headings\nat all\n") == []


def test_roman_title_headings():
    book = "\n".join(["I. The Mail", "a", "b", "c", "II. THE OPEN SEA", "d", "e", "f", "III. Home", "g"])
    assert chapterize(book) == ["a b c", "d e f", "g"]


def test_sample_books():
    records, counts = load(Gutenberg)
    assert [r["source"] for r in records] == ["gutenberg A Study in Scarlet"] * 3
    first = records[0]["text"]
    assert first == (
        "In the year 1878 I took my degree of Doctor of Medicine, and proceeded to Netley to go through the course "
        "prescribed for surgeons in the army.\n\nThe campaign brought honours and promotion to many, but for me it had "
        "nothing but misfortune and disaster."
    )
    assert records[0]["id"] == uid(first)
    assert "Updated editions" not in records[-1]["text"]
    assert counts.filtered == {"chapters not detected": 1}  # the sample of book 12
    assert counts.rejected == {"book unavailable": 14}


def test_books_option_and_all_missing_is_an_error(tmp_path):
    records, counts = load(Gutenberg, books={"A Study in Scarlet": 244})
    assert len(records) == 3 and not counts.rejected
    ctx = load_context(Gutenberg, data_root=tmp_path, hub=False, seed=0)
    with pytest.raises(DatasetUnavailable, match="gutenberg.org/files"):
        list(Gutenberg().load(ctx))


def test_downloads_retry_with_fibonacci_backoff(tmp_path, monkeypatch):
    import datasets

    monkeypatch.setattr(datasets.config, "HF_DATASETS_OFFLINE", False)  # online: retries apply
    book = tmp_path / "244-0.txt"
    book.write_text("text")
    attempts, waits = [], []

    def flaky(dataset_id, filename, url=None):
        attempts.append(url)
        if len(attempts) < 4:
            raise DatasetUnavailable(dataset_id, "connection reset")
        return book

    ctx = load_context(Gutenberg, seed=0)
    monkeypatch.setattr(ctx, "dataset_file", flaky)
    assert fetch(ctx, 244, 10, sleep=waits.append) == book
    assert attempts == ["https://www.gutenberg.org/files/244/244-0.txt"] * 4
    assert waits == [1, 1, 2]
    assert backoff(14)[-3:] == [89, 90, 90]
    attempts.clear()
    with pytest.raises(DatasetUnavailable):
        fetch(ctx, 244, 2, sleep=waits.append)
    assert len(attempts) == 2


def test_no_retries_for_a_data_root(tmp_path):
    ctx = load_context(Gutenberg, data_root=tmp_path, hub=False, seed=0)
    waits = []
    with pytest.raises(DatasetUnavailable):
        fetch(ctx, 244, 10, sleep=waits.append)
    assert waits == []


def test_offline_without_a_local_copy_fails_fast_naming_the_dataset(monkeypatch):
    import time

    import datasets
    import pytest

    from bagel_core import DatasetUnavailable
    from bagel_sources_builtin.gutenberg import Gutenberg

    monkeypatch.setattr(datasets.config, "HF_DATASETS_OFFLINE", True)
    sleeps: list[float] = []
    monkeypatch.setattr(time, "sleep", sleeps.append)
    books = {"Dracula": 345, "Emma": 158}
    source = Gutenberg(Gutenberg.Options(books=books))
    ctx = load_context(Gutenberg, {"books": books})
    attempts: list[str] = []
    look_up = ctx.dataset_file

    def dataset_file(dataset, filename, **kwargs):
        attempts.append(filename)
        return look_up(dataset, filename, **kwargs)

    monkeypatch.setattr(ctx, "dataset_file", dataset_file)
    with pytest.raises(DatasetUnavailable, match="gutenberg"):
        list(source.load(ctx))
    # One attempt per book: no retries, so no back-off waits, and no courtesy pause either.
    assert attempts == ["345/345-0.txt", "158/158-0.txt"]
    assert sleeps == []
