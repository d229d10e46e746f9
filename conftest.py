"""Settings for every test in the repository (tests/ and each plugin's tests/).

Tests never reach the Hugging Face Hub: they read local files, the shipped samples and
../shared/data. Each test has its own Hugging Face caches, so no test reads what another
left in a cache (nor the user's), whatever the order they run in.
"""

import os
import sys

import pytest

os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("HF_DATASETS_OFFLINE", "1")
os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")


@pytest.fixture(autouse=True)
def own_hf_cache(tmp_path_factory: pytest.TempPathFactory, monkeypatch: pytest.MonkeyPatch):
    """``HF_HOME`` and ``HF_DATASETS_CACHE`` in a fresh folder for this test (and its
    subprocesses). ``datasets`` reads them once, at import: if it is imported already, its
    copies are moved too. Not under ``tmp_path``, which some tests list."""
    home = tmp_path_factory.mktemp("hf-home")
    monkeypatch.setenv("HF_HOME", str(home))
    monkeypatch.setenv("HF_DATASETS_CACHE", str(home / "datasets"))
    monkeypatch.delenv("HF_HUB_CACHE", raising=False)
    config = sys.modules.get("datasets.config")
    if config is not None:
        monkeypatch.setattr(config, "HF_CACHE_HOME", str(home))
        monkeypatch.setattr(config, "HF_DATASETS_CACHE", home / "datasets")
        monkeypatch.setattr(config, "DOWNLOADED_DATASETS_PATH", home / "datasets" / "downloads")
        monkeypatch.setattr(config, "EXTRACTED_DATASETS_PATH", home / "datasets" / "downloads" / "extracted")
    return home
