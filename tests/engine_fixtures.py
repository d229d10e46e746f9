"""Fixtures and helpers of the engine's tests (loaded by conftest.py as a pytest plugin).

Tests run offline (see the repository's root conftest.py).
"""

import json
import sys
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[1]
SHARED = REPO.parent / "shared"
#: The code of the trainers bagel exports to (axolotl, LLaMA-Factory), installed there by
#: scripts/setup.sh without their dependencies, whose pins would replace torch and transformers.
TOOLS = Path(sys.prefix) / "tools"


@pytest.fixture
def shared_data() -> Path:
    """The real data files in ../shared/data (read-only)."""
    path = SHARED / "data"
    if not path.is_dir():
        pytest.fail(f"{path} is missing: CI runs with ../shared beside the repository")
    return path


def tool_code(name: str) -> Path:
    """The folder to put on ``sys.path`` to import tool ``name``'s own code (see ``TOOLS``)."""
    path = TOOLS / name
    if not (path / name).is_dir():
        pytest.fail(f"{path} is missing: scripts/setup.sh installs {name}'s code there")
    return path


def write_jsonl(path: Path, rows) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text("".join(json.dumps(r) + "\n" for r in rows))
    return path


def install_fake_dist(site: Path, dist: str, version: str, entry_points: dict, modules: dict = None) -> Path:
    """A real (importlib.metadata-visible) distribution in ``site``: put ``site`` on sys.path/PYTHONPATH."""
    site.mkdir(parents=True, exist_ok=True)
    info = site / f"{dist.replace('-', '_')}-{version}.dist-info"
    info.mkdir()
    (info / "METADATA").write_text(f"Metadata-Version: 2.1\nName: {dist}\nVersion: {version}\n")
    (info / "entry_points.txt").write_text("[bagel]\n" + "".join(f"{k} = {v}\n" for k, v in entry_points.items()))
    for name, source in (modules or {}).items():
        (site / f"{name}.py").write_text(source)
    return site


TOY_HIGH = [
    {"q": "What is the boiling point of water at sea level?", "a": "100 degrees Celsius."},
    {"q": "Who wrote Pride and Prejudice?", "a": "Jane Austen.", "system": "Answer briefly."},
    {"q": "What is 7 times 8?", "a": "56."},
    {"q": "Name the largest ocean.", "a": ""},  # empty text
    {"q": "What colour is the sky on a clear day?"},  # missing field 'a'
    {"q": "How many continents are there?", "a": 7},  # non-string value
    {"q": "What is the chemical symbol for gold?", "a": None},  # missing (null) value
]
TOY_LOW = [
    {"n": 0, "turns": [["What is 7 times 8?", "Fifty-six."]]},  # duplicate of toy-high
    {
        "n": 1,
        "turns": [["Tell me a joke.", "Why did the chicken cross the road?"], ["Why?", "To get to the other side."]],
    },
    {"n": 2, "turns": [["Define entropy.", "A measure of disorder."]]},
    {"n": 3, "text": "Chapter 1. It was a bright cold day in April, and the clocks were striking thirteen."},
    {"n": 4, "turns": 42},  # wrong type
    {"n": 5, "turns": [["Tell me a joke.", "Knock knock."], ["Why?", "Because."]]},  # duplicate within source
]
TOY_PAIRS = [
    {
        "prompt": "Write a haiku about rain.",
        "chosen": "Soft rain on tin roofs\nthe garden drinks it slowly\nclouds walk to the hills",
        "rejected": "Rain is wet.",
    },
    {
        "prompt": "Is the earth flat?",
        "chosen": "No, it is an oblate spheroid.",
        "rejected": "Yes.",
        "system": "You are a careful scientist.",
    },
    {"prompt": "Say hi.", "chosen": "Hi!", "rejected": "Hi!"},  # chosen equals rejected
    {"prompt": "Write a haiku about rain.", "chosen": "Another one", "rejected": "nope"},  # duplicate prompt
]


@pytest.fixture
def toy_root(tmp_path) -> Path:
    """A data root with the toy plugin's three datasets."""
    root = tmp_path / "data"
    write_jsonl(root / "toy" / "high" / "rows.jsonl", TOY_HIGH)
    write_jsonl(root / "toy" / "low" / "rows.jsonl", TOY_LOW)
    write_jsonl(root / "toy" / "pairs" / "rows.jsonl", TOY_PAIRS)
    return root


@pytest.fixture
def toy_registry():
    """Installed plugins plus the toy plugin (tests/toy_plugin.py)."""
    import toy_plugin

    from bagel_core.testing import registry_with

    return registry_with(("toy", toy_plugin), strict=False)
