"""The pipeline end to end: counts, dedup order, outputs, caching, determinism, resume."""

import json
import os
import subprocess
import sys
from pathlib import Path

import pyarrow.parquet as pq
import pytest
from engine_fixtures import REPO, install_fake_dist

from bagel_core.config import ConfigError, RunConfig
from bagel_core.data import DatasetUnavailable
from bagel_core.pipeline import DecontaminationUnavailable, run
from bagel_core.records import uid
from bagel_core.registry import UnknownComponentError

TOY = dict(sources="toy-high,toy-low", dpo="toy-pairs", formats="vicuna", decontaminate="none")


def rows(path: Path) -> list[dict]:
    return pq.read_table(path).to_pylist()


def test_counts_by_source_and_reason(tmp_path, toy_root, toy_registry):
    result = run(RunConfig(out=tmp_path / "out", data_root=toy_root, **TOY), toy_registry)
    s = result.manifest.to_json()["sources"]
    assert s["toy-high"]["loaded"] == 3
    assert s["toy-high"]["rejected"] == {
        "empty text": 1,
        "missing field": 1,
        "missing field 'a'": 1,
        "non-string value": 1,
    }
    assert s["toy-low"]["loaded"] == 5
    assert s["toy-low"]["rejected"] == {"wrong type": 1}
    # "What is 7 times 8?" is taken from toy-high (priority 5), and the second joke from toy-low itself.
    assert s["toy-low"]["duplicates"] == 2
    assert s["toy-pairs"] == s["toy-pairs"] | {"loaded": 3, "rejected": {"chosen equals rejected": 1}, "duplicates": 1}
    # Rows: toy-high 3 single-turn; toy-low: define entropy 1 + joke 2 turns + plain text 1.
    # conversations.parquet: one row per conversation (toy-low's plain text has none).
    assert s["toy-high"]["rows_written"] == {"sft": 3, "dpo": 0, "conversations": 3}
    assert s["toy-low"]["rows_written"] == {"sft": 4, "dpo": 0, "conversations": 2}
    assert s["toy-pairs"]["rows_written"] == {"sft": 0, "dpo": 2, "conversations": 0}

    sft = rows(tmp_path / "out" / "sft.parquet")
    seven = [r for r in sft if r["id"] == uid("What is 7 times 8?")]
    # toy runs render vicuna: its completion begins with the space its prompt ends with.
    assert [r["completion"] for r in seven] == [" 56."]
    assert seven[0]["source"] == "toy-high"
    text = [r for r in sft if r["completion"].startswith("Chapter 1.")]
    assert text and text[0]["prompt"] == ""
    joke = [r for r in sft if r["source"] == "toy-low" and "joke" in r["prompt"]]
    assert [r["completion"] for r in joke] == [" Why did the chicken cross the road?", " To get to the other side."]
    assert "USER: Why?" in joke[1]["prompt"] and "ASSISTANT: Why did the chicken" in joke[1]["prompt"]

    dpo = rows(tmp_path / "out" / "dpo.parquet")
    haiku = next(r for r in dpo if "haiku" in r["prompt"])
    # vicuna: cut on a token boundary, the prompt's trailing space begins each answer.
    assert haiku["chosen"].startswith(" Soft rain") and haiku["rejected"] == " Rain is wet."
    flat = next(r for r in dpo if "flat" in r["prompt"])
    assert flat["prompt"] == "You are a careful scientist.\nUSER: Is the earth flat?\nASSISTANT:"


def test_outputs_load_with_datasets(tmp_path, toy_root, toy_registry):
    import datasets

    out = tmp_path / "out"
    run(RunConfig(out=out, data_root=toy_root, **TOY), toy_registry)
    assert set(p.name for p in out.iterdir()) >= {
        "sft.parquet",
        "dpo.parquet",
        "conversations.parquet",
        "contamination.parquet",
        "manifest.json",
        "README.md",
    }
    assert not list(out.glob(".*.tmp"))
    cache = tmp_path / "hf-datasets"  # its own cache: never another test's copy of "out"
    sft = datasets.load_dataset(str(out), "sft", split="train", cache_dir=str(cache))
    dpo = datasets.load_dataset(str(out), "dpo", split="train", cache_dir=str(cache))
    assert sft.column_names == ["id", "source", "format", "prompt", "completion"] and len(sft) == 7
    assert dpo.column_names == ["id", "source", "format", "prompt", "chosen", "rejected"] and len(dpo) == 2


def test_same_output_for_any_num_proc_and_source_order(tmp_path, toy_root, toy_registry, start_method):
    a = run(RunConfig(out=tmp_path / "a", data_root=toy_root, num_proc=1, **TOY), toy_registry)
    config = dict(TOY, sources="toy-low,toy-high")
    b = run(RunConfig(out=tmp_path / "b", data_root=toy_root, num_proc=2, **config), toy_registry)
    for name in ("sft.parquet", "dpo.parquet"):
        assert rows(tmp_path / "a" / name) == rows(tmp_path / "b" / name)
    assert a.manifest.to_json()["sources"] == b.manifest.to_json()["sources"]
    c = run(RunConfig(out=tmp_path / "c", data_root=toy_root, seed=7, **TOY), toy_registry)
    # The default vicuna system prompt is a seeded coin per item: another seed, other choices.
    assert rows(tmp_path / "a" / "sft.parquet") != rows(tmp_path / "c" / "sft.parquet")
    assert c.manifest.to_json()["totals"] == a.manifest.to_json()["totals"]


def test_rerun_reuses_stages(tmp_path, toy_root, toy_registry):
    config = RunConfig(out=tmp_path / "out", data_root=toy_root, **TOY)
    first = run(config, toy_registry)
    assert not first.reused
    shards = sorted((tmp_path / "out" / ".bagel-work" / "load").glob("*/records.parquet"))
    mtimes = [p.stat().st_mtime_ns for p in shards]
    assert run(config, toy_registry).reused
    # A different seed re-renders but loads nothing again (loading does not depend on it here? it does:
    # randomness in sources derives from the seed), so change only the formats' options instead.
    config.options = {"format": {"vicuna": {"system_prompt_probability": 1.0}}}
    third = run(config, toy_registry)
    assert not third.reused
    assert [p.stat().st_mtime_ns for p in shards] == mtimes
    assert all(
        r["prompt"].startswith("A chat between") or r["prompt"].startswith("Answer briefly") or r["prompt"] == ""
        for r in rows(tmp_path / "out" / "sft.parquet")
    )
    # Changed input data invalidates that source's shard only.
    (toy_root / "toy" / "high" / "rows.jsonl").write_text(json.dumps({"q": "New question?", "a": "New answer."}) + "\n")
    fourth = run(config, toy_registry)
    assert fourth.manifest.to_json()["sources"]["toy-high"]["loaded"] == 1
    assert len(list((tmp_path / "out" / ".bagel-work" / "load").glob("source-toy-high-*/records.parquet"))) == 2


def test_unknown_names_and_bad_options(tmp_path, toy_root, toy_registry):
    with pytest.raises(UnknownComponentError, match=r"unknown source 'nope'; available: .*toy-high"):
        run(
            RunConfig(out=tmp_path / "o", data_root=toy_root, sources="nope", dpo="none", formats="vicuna"),
            toy_registry,
        )
    config = RunConfig(out=tmp_path / "o", data_root=toy_root, **TOY, options={"format": {"vicuna": {"colour": 1}}})
    with pytest.raises(ConfigError, match=r"format 'vicuna': unknown option\(s\) \['colour'\]"):
        run(config, toy_registry)
    config = RunConfig(
        out=tmp_path / "o", data_root=toy_root, **TOY, options={"source": {"toy-high": {"priority": "high"}}}
    )
    with pytest.raises(ConfigError, match="source 'toy-high': priority = 'high' is not allowed; expected int"):
        run(config, toy_registry)


def test_priority_override_changes_dedup_winner(tmp_path, toy_root, toy_registry):
    config = RunConfig(out=tmp_path / "o", data_root=toy_root, **TOY, options={"source": {"toy-low": {"priority": 9}}})
    manifest = run(config, toy_registry).manifest.to_json()
    assert manifest["sources"]["toy-high"]["duplicates"] == 1
    seven = [r for r in rows(tmp_path / "o" / "sft.parquet") if r["id"] == uid("What is 7 times 8?")]
    assert [r["completion"] for r in seven] == [" Fifty-six."]


def test_missing_dataset_names_id_and_remedies(tmp_path, toy_registry):
    with pytest.raises(Exception) as info:
        run(RunConfig(out=tmp_path / "o", data_root=tmp_path / "empty", **TOY), toy_registry)
    message = str(info.value)
    assert "toy/high" in message and "--data-root" in message and "huggingface-cli download" in message
    assert isinstance(info.value.__cause__, DatasetUnavailable)


def test_missing_benchmark_data_names_the_benchmark_set_and_the_off_switch(tmp_path, toy_root, toy_registry):
    config = RunConfig(out=tmp_path / "o", data_root=toy_root, **{**TOY, "decontaminate": "ngram"}, benchmarks="gsm8k")
    with pytest.raises(DecontaminationUnavailable) as info:
        run(config, toy_registry)
    message = str(info.value)
    assert message.startswith("benchmark set 'gsm8k': dataset 'openai/gsm8k' is not available") and "\n" not in message
    assert message.endswith("or decontaminate without it (--benchmarks a,b) or not at all (--decontaminate none)")
    assert isinstance(info.value.__cause__, DatasetUnavailable)


TOY_DIST = {"toy": "toy_plugin"}


def _bagel(args, env_extra, cwd):
    env = dict(os.environ, **env_extra)
    return subprocess.run(
        [sys.executable, "-m", "bagel_core", *args], capture_output=True, text=True, env=env, cwd=cwd, timeout=300
    )


def test_killed_run_resumes_to_the_same_output(tmp_path, toy_root):
    site = install_fake_dist(tmp_path / "site", "bagel-toy", "1.0", TOY_DIST)
    # Keeps the caller's PYTHONPATH (a worktree's checkout) after the fake distribution.
    env = {"PYTHONPATH": os.pathsep.join([str(site), str(REPO / "tests"), os.environ.get("PYTHONPATH", "")])}
    args = [
        "run",
        "--data-root",
        str(toy_root),
        "--sources",
        "toy-high,toy-low",
        "--dpo",
        "toy-pairs",
        "--formats",
        "vicuna",
        "--decontaminate",
        "none",
        "-q",
    ]
    reference = _bagel([*args, "--out", str(tmp_path / "ref")], env, tmp_path)
    assert reference.returncode == 0, reference.stderr

    out = tmp_path / "out"
    killed = _bagel([*args, "--out", str(out)], {**env, "BAGEL_TEST_KILL_AFTER": "2"}, tmp_path)
    assert killed.returncode == -9
    # Nothing final was written, and toy-high (loaded before the kill) has its finished shard.
    assert not (out / "manifest.json").exists() and not (out / "sft.parquet").exists()
    finished = list((out / ".bagel-work" / "load").glob("source-toy-high-*/records.parquet"))
    assert finished and not list((out / ".bagel-work" / "load").glob("source-toy-low-*/records.parquet"))
    mtime = finished[0].stat().st_mtime_ns

    resumed = _bagel([*args, "--out", str(out)], env, tmp_path)
    assert resumed.returncode == 0, resumed.stderr
    assert finished[0].stat().st_mtime_ns == mtime
    assert not list(out.rglob("*.tmp"))
    for name in ("sft.parquet", "dpo.parquet"):
        assert rows(out / name) == rows(tmp_path / "ref" / name)


def test_tokenizer_gives_special_tokens_and_all_skips_tokenizer_only_formats(
    tmp_path, toy_root, toy_registry, tiny_llama
):
    config = RunConfig(
        out=tmp_path / "o",
        data_root=toy_root,
        sources="toy-high",
        dpo="none",
        formats="all",
        decontaminate="none",
        tokenizer=str(tiny_llama),
    )
    manifest = run(config, toy_registry).manifest.to_json()
    assert "chat-template" not in manifest["formats"] and "vicuna" in manifest["formats"]
    assert manifest["special_tokens"]["bos"] == "<s>" and manifest["special_tokens"]["tokenizer_path"] == str(
        tiny_llama
    )
    # Named, it is used, and this base tokenizer has no template: a clear error naming it.
    with pytest.raises(ValueError, match=r"format 'chat-template': tokenizer '.*tiny-llama.*' has no chat_template"):
        run(
            RunConfig(
                out=tmp_path / "n",
                data_root=toy_root,
                sources="toy-high",
                dpo="none",
                formats="chat-template",
                decontaminate="none",
                tokenizer=str(tiny_llama),
            ),
            toy_registry,
        )
