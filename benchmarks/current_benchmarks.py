"""Today's benchmark test sets (the ``current`` group) from ../shared/data, written into the
upstream Hub layout their benchmark sets read, and loaded through those sets.

Several shared copies are not in the Hub layout (PROVENANCE.md): MBPP and BBH are the GitHub
releases' JSON, MATH the original tarball of one JSON per problem, GPQA a gzipped CSV. They are
used as real text: :func:`write_upstream` converts them into ``ROOT/<owner>/<name>/`` as the Hub
holds them, so tests and measurements read them through the same code as ``--data-root ROOT``.

GPQA is written decompressed (its upstream layout is a plain CSV): only into a temporary folder
the caller deletes, never into the repository, and nothing here prints its rows.
"""

from __future__ import annotations

import gzip
import json
import re
import shutil
import tarfile
from collections.abc import Iterable
from pathlib import Path

import pyarrow as pa
import pyarrow.parquet as pq

from bagel_core.components import BenchmarkText
from bagel_core.context import LoadContext
from bagel_core.data import DataAccess
from bagel_sources_builtin.benchmarks import CURRENT

BENCH = Path(__file__).resolve().parents[1] / ".." / "shared" / "data" / "benchmarks"
NAMES = tuple(cls.name for cls in CURRENT)
#: MBPP's test split: task ids 11-510 (the google-research README; the Hub's full/test).
MBPP_TEST = range(11, 511)

_MBPP_SCHEMA = pa.schema(
    [
        ("task_id", pa.int32()),
        ("text", pa.string()),
        ("code", pa.string()),
        ("test_list", pa.list_(pa.string())),
        ("test_setup_code", pa.string()),
        ("challenge_test_list", pa.list_(pa.string())),
    ]
)
_MATH_SCHEMA = pa.schema(
    [("problem", pa.string()), ("level", pa.string()), ("type", pa.string()), ("solution", pa.string())]
)


def _parquet(path: Path, rows: list[dict], schema: pa.Schema | None = None) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    pq.write_table(pa.Table.from_pylist(rows, schema=schema), path)


def mbpp_rows() -> list[dict]:
    with open(BENCH / "mbpp" / "mbpp.jsonl", encoding="utf-8") as f:
        return [json.loads(line) for line in f if line.strip()]


def bbh_rows() -> dict[str, list[dict]]:
    """Task -> its examples (``input``, ``target``), from the BBH repository's bbh/<task>.json."""
    return {
        p.stem: json.loads(p.read_text(encoding="utf-8"))["examples"] for p in sorted((BENCH / "bbh").glob("*.json"))
    }


def math_rows() -> dict[str, list[dict]]:
    """Subject -> its test problems in file-number order, from MATH/test/<subject>/<n>.json."""
    found: dict[str, list[tuple[int, dict]]] = {}
    with tarfile.open(BENCH / "math" / "MATH_test.tar.gz") as tar:
        for member in tar:
            m = re.fullmatch(r"MATH/test/(\w+)/(\d+)\.json", member.name)
            if m and member.isfile():
                found.setdefault(m.group(1), []).append((int(m.group(2)), json.load(tar.extractfile(member))))
    return {subject: [row for _, row in sorted(rows, key=lambda r: r[0])] for subject, rows in sorted(found.items())}


def write_upstream(root: Path, names: Iterable[str] = NAMES, limit: int | None = None) -> Path:
    """Write the shared copies of ``names`` into ``root`` in their Hub layout; ``limit`` keeps
    the first rows of each file (the shipped samples)."""
    names = set(names)
    cut = (lambda rows: rows[:limit]) if limit else (lambda rows: rows)
    if "mbpp" in names:
        rows = [{k: r[k] for k in _MBPP_SCHEMA.names} for r in mbpp_rows() if r["task_id"] in MBPP_TEST]
        _parquet(root / "google-research-datasets/mbpp/full/test-00000-of-00001.parquet", cut(rows), _MBPP_SCHEMA)
    if "bbh" in names:
        for task, rows in bbh_rows().items():
            _parquet(root / f"lukaemon/bbh/{task}/test-00000-of-00001.parquet", cut(rows))
    if "ifeval" in names:
        lines = (BENCH / "ifeval" / "input_data.jsonl").read_text(encoding="utf-8").splitlines(keepends=True)
        (root / "google/IFEval").mkdir(parents=True, exist_ok=True)
        (root / "google/IFEval/ifeval_input_data.jsonl").write_text("".join(cut(lines)), encoding="utf-8")
    if "math" in names:
        for subject, rows in math_rows().items():
            _parquet(root / f"EleutherAI/hendrycks_math/{subject}/test-00000-of-00001.parquet", cut(rows), _MATH_SCHEMA)
    if "math_500" in names:
        lines = (BENCH / "math_500" / "test.jsonl").read_text(encoding="utf-8").splitlines(keepends=True)
        (root / "HuggingFaceH4/MATH-500").mkdir(parents=True, exist_ok=True)
        (root / "HuggingFaceH4/MATH-500/test.jsonl").write_text("".join(cut(lines)), encoding="utf-8")
    if "gpqa" in names:
        if limit:
            raise ValueError("no GPQA sample from the real file: the shipped one is synthetic")
        (root / "Idavidrein/gpqa").mkdir(parents=True, exist_ok=True)
        with (
            gzip.open(BENCH / "gpqa" / "gpqa_diamond.csv.gz", "rb") as src,
            open(root / "Idavidrein/gpqa/gpqa_diamond.csv", "wb") as dst,
        ):
            shutil.copyfileobj(src, dst)
    if "mmlu_pro" in names:
        for split in ("test", "validation"):
            table = pq.read_table(BENCH / "mmlu_pro" / f"{split}-00000-of-00001.parquet")
            _parquet(
                root / f"TIGER-Lab/MMLU-Pro/data/{split}-00000-of-00001.parquet",
                table.slice(0, limit or len(table)).to_pylist(),
                table.schema,
            )
    return root


def load(root: Path, names: Iterable[str] = NAMES) -> dict[str, list[BenchmarkText]]:
    """Name -> the texts its benchmark set indexes from ``root`` (a data root, no Hub)."""
    out = {}
    for cls in CURRENT:
        if cls.name in names:
            out[cls.name] = list(cls().texts(LoadContext(cls.name, 0, DataAccess(root, hub=False))))
    return out
