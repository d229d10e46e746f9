"""Run the bagel pipeline once, in this (child) process, and print what it did as one JSON line.

    python child_run.py '{"data_root": ..., "out": ..., "sources": "a,b", "dpo": "c",
                          "decontaminate": "ngram", "num_proc": 2}'

The same as ``bagel run --data-root ... --formats all --quiet``, but in-process so the stage
timings of :class:`bagel_core.pipeline.RunResult` come back.
"""

from __future__ import annotations

import json
import sys
import time
from pathlib import Path


def main(arguments: dict) -> dict:
    started = time.perf_counter()
    import datasets

    from bagel_core.config import RunConfig
    from bagel_core.pipeline import run
    from bagel_core.registry import load_plugins

    datasets.disable_progress_bars()
    config = RunConfig(
        sources=arguments["sources"],
        dpo=arguments["dpo"],
        formats="all",
        decontaminate=arguments.get("decontaminate", "none"),
        dedup=arguments.get("dedup", "exact"),
        data_root=Path(arguments["data_root"]),
        out=Path(arguments["out"]),
        num_proc=arguments.get("num_proc", 1),
        seed=arguments.get("seed", 42),
        options=arguments.get("options", {}),
    )
    registry = load_plugins()
    imported = time.perf_counter() - started
    result = run(config, registry, quiet=True)
    assert result.manifest is not None  # a run, not a plan
    manifest = result.manifest.to_json()
    return {
        "startup_s": imported,
        "timings": result.timings,
        "reused": result.reused,
        "totals": manifest["totals"],
        "formats": manifest["formats"],
        "sources": {
            name: {
                k: s[k]
                for k in ("kind", "loaded", "rejected", "filtered", "duplicates", "contaminated", "rows_written")
            }
            for name, s in manifest["sources"].items()
        },
    }


if __name__ == "__main__":
    print(json.dumps(main(json.loads(sys.argv[1]))))
