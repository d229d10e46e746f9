"""comedy_snippets: each snippet as plain text."""

from sources_testkit import load

from bagel_core import uid
from bagel_sources_builtin.comedy_snippets import ComedySnippets


def test_snippets_as_plain_text():
    records, counts = load(ComedySnippets)
    joke = "I told my therapist about my fear of speed bumps. She said I'd get over it."
    assert records[0] == {"id": uid(joke), "source": "comedy-snippets", "text": joke}
    assert len(records) == 2 and all("conversations" not in r for r in records)
    assert counts.rejected == {"empty snippet": 1, "missing field 'snippet'": 1}
