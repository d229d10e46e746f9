"""Settings for every test in the repository (tests/ and each plugin's tests/).

Tests never reach the Hugging Face Hub: they read local files, the shipped samples and
../shared/data.
"""

import os

os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("HF_DATASETS_OFFLINE", "1")
os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")
