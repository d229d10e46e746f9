"""Token counting in the worker pool: every worker counts, and the counts are those of one
process (and of counting each row on its own)."""

from __future__ import annotations

import os
import random

import pyarrow as pa
import pyarrow.parquet as pq

from bagel_core.stages.tokens import count_file, count_tokens, token_counter


def _rows(n: int, seed: int = 0) -> pa.Table:
    """SFT-like rows: each answer repeated in four formats, as a rendered file holds them."""
    rng = random.Random(seed)
    words = "the a bagel of many sources answer question format token worker pool count".split()
    rows = {"source": [], "format": [], "prompt": [], "completion": []}
    for i in range(n):
        answer = " ".join(rng.choice(words) for _ in range(rng.randint(1, 60)))
        for fmt in ("alpaca", "vicuna", "chatml", "llama-2"):
            rows["source"].append(f"s{i % 3}")
            rows["format"].append(fmt)
            rows["prompt"].append(
                f"[{fmt}] question {i}: " + " ".join(rng.choice(words) for _ in range(rng.randint(1, 30)))
            )
            rows["completion"].append(answer)
    return pa.table(rows)


def test_counting_in_two_workers_uses_both_and_matches_one_process(tiny_llama, tmp_path, start_method):
    from transformers import AutoTokenizer

    path = tmp_path / "sft.parquet"
    table = _rows(3000)
    pq.write_table(table, path, row_group_size=5000)
    with token_counter(str(tiny_llama), 1) as one:
        serial = count_file(path, ("prompt", "completion"), one)
    with token_counter(str(tiny_llama), 2) as pool:
        parallel = count_file(path, ("prompt", "completion"), pool)
    assert parallel == serial
    assert one.pids == {os.getpid()}
    assert len(pool.pids) == 2 and os.getpid() not in pool.pids  # two worker processes counted
    # And both are the counts of each row on its own.
    tok = AutoTokenizer.from_pretrained(tiny_llama)
    expected: dict = {}
    for row in table.to_pylist():
        entry = expected.setdefault(row["source"], {}).setdefault(
            row["format"], {"rows": 0, "prompt": 0, "completion": 0}
        )
        entry["rows"] += 1
        for c in ("prompt", "completion"):
            entry[c] += len(tok(row[c], add_special_tokens=False)["input_ids"])
    assert serial == expected


def test_count_tokens_of_an_output_folder_with_num_proc(tiny_llama, tmp_path):
    out = tmp_path / "out"
    out.mkdir()
    pq.write_table(_rows(200, seed=1), out / "sft.parquet")
    dpo = pa.table(
        {
            "source": ["d"] * 3,
            "format": ["vicuna"] * 3,
            "prompt": ["p one", "p two", ""],
            "chosen": ["yes", "sure thing", "x"],
            "rejected": ["no", "", "y"],
        }
    )
    pq.write_table(dpo, out / "dpo.parquet")
    assert count_tokens(out, str(tiny_llama), num_proc=2) == count_tokens(out, str(tiny_llama), num_proc=1)
