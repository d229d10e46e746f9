"""bagel's built-in SFT data sources and benchmark test sets."""

from pathlib import Path

#: Samples of every upstream dataset, in upstream layout: ``SAMPLES/<owner>/<name>/``.
SAMPLES = Path(__file__).parent / "samples"
