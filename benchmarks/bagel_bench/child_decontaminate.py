"""The decontaminators alone: index a benchmark-sized set of texts, search deduplicated items.

    python child_decontaminate.py '{"dedup_dir": ..., "name": "ngram", "queries": 0,
                                    "benchmark_texts": 30000, "planted": 500, "cache_dir": ...}'

Benchmark texts are synthetic (as many as the real sets hold together), plus ``planted``
texts copied from queries, which every decontaminator must find. ``queries`` > 0 searches only
the first that many SFT instructions (the embedding decontaminator is slow on CPU). Prints one
JSON line: index and search seconds, queries per second, matches.
"""

from __future__ import annotations

import json
import sys
import time
from pathlib import Path

import numpy as np
import pyarrow.parquet as pq

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from bagel_bench.text import TextPool  # noqa: E402

BATCH = 4096


def queries_of(dedup_dir: Path, limit: int) -> list:
    from bagel_core.components import Query

    queries = []
    table = pq.read_table(dedup_dir / "sft.parquet", columns=["id", "source", "conversations"])
    for item_id, source, turns in zip(*(table.column(c).to_pylist() for c in ("id", "source", "conversations"))):
        if not turns:
            continue
        human = tuple(t["value"] for t in turns if t["from"] == "human")
        queries.append(Query(item_id, source, human[0], human))
        if limit and len(queries) >= limit:
            break
    dpo = pq.read_table(dedup_dir / "dpo.parquet", columns=["id", "source", "prompt"])
    for item_id, source, prompt in zip(*(dpo.column(c).to_pylist() for c in ("id", "source", "prompt"))):
        if limit and len(queries) >= limit:
            break
        queries.append(Query(item_id, source, prompt, (prompt,)))
    return queries


def benchmark_texts(queries: list, count: int, planted: int, seed: int) -> list:
    from bagel_core.components import BenchmarkText

    rng = np.random.default_rng([seed, 0xDEC0])
    texts = TextPool(seed + 1, words=500_000).texts(rng, count, 25, 0.8, min_words=5)
    chosen = rng.choice(len(queries), size=min(planted, len(queries) // 10), replace=False)
    texts += [queries[i].text for i in chosen.tolist()]
    return [BenchmarkText("synthetic", str(i), t) for i, t in enumerate(texts)]


def main(arguments: dict) -> dict:
    from bagel_core.registry import load_plugins

    registry = load_plugins()
    info = registry.get("decontaminator", arguments["name"])
    queries = queries_of(Path(arguments["dedup_dir"]), arguments.get("queries", 0))
    benchmarks = benchmark_texts(queries, arguments["benchmark_texts"], arguments["planted"], arguments.get("seed", 0))
    cache = arguments.get("cache_dir")
    decontaminator = info.cls(info.cls.Options(), cache_dir=Path(cache) if cache else None)
    started = time.perf_counter()
    decontaminator.index(benchmarks)
    indexed = time.perf_counter() - started
    matched = set()
    started = time.perf_counter()
    for start in range(0, len(queries), BATCH):
        matched.update(m.id for m in decontaminator.search(queries[start : start + BATCH]))
    searched = time.perf_counter() - started
    return {
        "decontaminator": arguments["name"],
        "benchmark_texts": len(benchmarks),
        "planted": len(benchmarks) - arguments["benchmark_texts"],
        "queries": len(queries),
        "index_s": indexed,
        "search_s": searched,
        "queries_per_s": len(queries) / searched if searched else None,
        "matched": len(matched),
    }


if __name__ == "__main__":
    print(json.dumps(main(json.loads(sys.argv[1]))))
