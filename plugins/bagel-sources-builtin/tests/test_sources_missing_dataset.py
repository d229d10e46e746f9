"""Every built-in source, with neither a local copy nor the Hub: it meets the component contract
(its sample yields valid records) and fails with an error naming the dataset and how to provide it.

One case per registered source, so a new source is checked without a test of its own.
"""

from __future__ import annotations

import pytest
from sources_testkit import assert_missing_dataset_named, data_root

from bagel_core.registry import load_plugins
from bagel_sources_builtin.humaneval_filter import HUMANEVAL_ID

#: Sources that read nothing the Hub holds, and why they are not cases here.
NO_DATASET = {"local": "reads the user's own files (test_sources_local.py covers missing ones)"}

#: The dataset an error names where it is not the source's first one: (datasets already in the
#: data root, the dataset the error names). By default an empty root and ``dataset_ids[0]``.
EXPECTED: dict[str, list[tuple[tuple[str, ...], str]]] = {
    # apps and rosetta_code read HumanEval (to filter overlaps) before their own dataset.
    "apps": [((HUMANEVAL_ID,), "codeparrot/apps"), ((), HUMANEVAL_ID)],
    "rosetta_code": [((HUMANEVAL_ID,), "cakiki/rosetta-code")],
    "python_alpaca": [((), "openai_humaneval")],
}


def _cases() -> list:
    sources = {
        name: entry.cls
        for name, entry in load_plugins().of("source").items()
        if entry.cls.__module__.startswith("bagel_sources_builtin.")
    }
    assert set(NO_DATASET) | set(EXPECTED) <= set(sources)
    return [
        pytest.param(cls, provided, expected, id=f"{name}-{expected}" if name in EXPECTED else name)
        for name, cls in sorted(sources.items())
        if name not in NO_DATASET
        for provided, expected in EXPECTED.get(name, [((), cls.dataset_ids[0])])
    ]


@pytest.mark.parametrize(("cls", "provided", "expected"), _cases())
def test_missing_dataset_names_it(tmp_path, cls, provided, expected):
    root = tmp_path / "root"
    root.mkdir()
    assert_missing_dataset_named(cls, data_root(root, *provided), expected)
