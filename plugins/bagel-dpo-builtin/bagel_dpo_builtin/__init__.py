"""bagel's built-in DPO builders."""

from pathlib import Path

#: Samples of every upstream dataset, in upstream layout: ``SAMPLES/<owner>/<name>/``.
SAMPLES = Path(__file__).parent / "samples"
