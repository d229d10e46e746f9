"""Dedup scopes: SFT and DPO apart (bagel) or one seen-set (the reference), and DPO-only pairs."""

import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from bagel_core import uid
from bagel_core.builtin.dedup.exact import ExactDeduper
from bagel_core.stages import WORK_SCHEMA
from bagel_core.stages.dedup import run_dedup


def exact():
    return [ExactDeduper()]


def _sft(origin, instruction, answer="A."):
    turns = [{"from": "human", "value": instruction}, {"from": "gpt", "value": answer}]
    return {"id": uid(instruction), "source": origin, "origin": origin, "conversations": turns}


def _pair(origin, prompt, chosen="good", rejected="bad"):
    return {
        "id": uid(prompt),
        "source": origin,
        "origin": origin,
        "prompt": prompt,
        "chosen": chosen,
        "rejected": rejected,
    }


def _shard(folder, name, records):
    path = folder / f"{name}.parquet"
    columns = {f: [r.get(f) for r in records] for f in WORK_SCHEMA.names}
    pq.write_table(pa.Table.from_pydict(columns, schema=WORK_SCHEMA), path)
    return path


@pytest.fixture
def shards(tmp_path):
    """In priority order: an SFT source, a source whose record is SFT and DPO at once (as the
    airoboros rewrites), a DPO builder sharing prompts with both, and a later SFT source."""
    both = {**_sft("rewrites", "Write a poem."), **_pair("rewrites", "Write a poem.")}
    return [
        _shard(tmp_path, "a", [_sft("chat", "What is 2+2?"), _sft("chat", "Name a color.")]),
        _shard(tmp_path, "b", [both]),
        _shard(
            tmp_path, "c", [_pair("prefs", "What is 2+2?"), _pair("prefs", "Write a poem."), _pair("prefs", "Why?")]
        ),
        _shard(tmp_path, "d", [_sft("late", "Why?"), _sft("late", "Name a color.")]),
    ]


def _totals(counts):
    return {origin: (c["sft"], c["dpo"]) for origin, c in counts.items()}


def _ids(folder, kind):
    return sorted(pq.read_table(folder / f"{kind}.parquet").column("id").to_pylist())


def test_separate_scope_dedups_sft_and_dpo_apart(tmp_path, shards):
    counts = run_dedup(shards, tmp_path / "sep", exact, "separate")
    assert _ids(tmp_path / "sep", "sft") == sorted(
        uid(t) for t in ("What is 2+2?", "Name a color.", "Write a poem.", "Why?")
    )
    assert _ids(tmp_path / "sep", "dpo") == sorted(uid(t) for t in ("Write a poem.", "What is 2+2?", "Why?"))
    # Only the SFT repeat of "Name a color." and the DPO repeat of "Write a poem." are dropped.
    assert _totals(counts) == {"prefs": (0, 1), "late": (1, 0)}


def test_shared_scope_is_one_seen_set_in_priority_order(tmp_path, shards):
    counts = run_dedup(shards, tmp_path / "shared", exact, "shared")
    assert _ids(tmp_path / "shared", "sft") == sorted(
        uid(t) for t in ("What is 2+2?", "Name a color.", "Write a poem.")
    )
    # The SFT+DPO record counts once and keeps both sides; prefs lose the two prompts SFT took,
    # and the late source loses the prompt prefs took.
    assert _ids(tmp_path / "shared", "dpo") == sorted(uid(t) for t in ("Write a poem.", "Why?"))
    assert _totals(counts) == {"prefs": (0, 2), "late": (2, 0)}
    assert counts["prefs"]["by_deduper"] == {
        "exact": {"sft": 0, "dpo": 1, "lost_to": {"rewrites": 1}},
        "shared-ids": {"sft": 0, "dpo": 1, "lost_to": {"chat": 1}},
    }
    assert counts["late"]["by_deduper"] == {
        "exact": {"sft": 1, "dpo": 0, "lost_to": {"chat": 1}},
        "shared-ids": {"sft": 1, "dpo": 0, "lost_to": {"prefs": 1}},
    }


def test_shared_scope_keeps_an_item_and_a_pair_of_one_label_together(tmp_path):
    """The airoboros source and the airoboros-rewrites builder emit one instruction as an SFT
    item and as a pair, both labelled airoboros_<category>: one record in two shapes, as in the
    reference (the cards' "both"). A pair of another label with that id is dropped."""
    item = {**_sft("x", "Write a poem."), "source": "airoboros_writing"}
    pair = {**_pair("y", "Write a poem."), "source": "airoboros_writing"}
    other = _pair("prefs", "Write a poem.")
    shards = [_shard(tmp_path, "src", [item]), _shard(tmp_path, "rewrites", [pair]), _shard(tmp_path, "prefs", [other])]
    counts = run_dedup(shards, tmp_path / "out", exact, "shared")
    assert _ids(tmp_path / "out", "sft") == [uid("Write a poem.")]
    assert pq.read_table(tmp_path / "out" / "dpo.parquet").column("origin").to_pylist() == ["y"]
    assert _totals(counts) == {"prefs": (0, 1)}


@pytest.mark.parametrize("scope", ["separate", "shared"])
def test_dpo_only_pairs_remove_sft_items_whatever_the_order(tmp_path, scope):
    # lmsys-like: the SFT source loads BEFORE the DPO builder whose pairs are DPO-only.
    shards = [
        _shard(tmp_path, "sft", [_sft("lmsys", "Hi there"), _sft("lmsys", "Multi-turn kept")]),
        _shard(tmp_path, "dpo", [_pair("lmsys-dpo", "Hi there")]),
    ]
    counts = run_dedup(shards, tmp_path / scope, exact, scope, dpo_only=[shards[1]])
    assert _ids(tmp_path / scope, "sft") == [uid("Multi-turn kept")]
    assert _ids(tmp_path / scope, "dpo") == [uid("Hi there")]
    assert _totals(counts) == {"lmsys": (1, 0)}
    assert counts["lmsys"]["by_deduper"] == {"dpo-only": {"sft": 1, "dpo": 0, "lost_to": {"lmsys-dpo": 1}}}


def test_dpo_only_pairs_remove_only_their_own_sources_items(tmp_path):
    # glaive's item has the instruction of an lmsys pair: the reference made only lmsys's rows
    # DPO-only, so with twins naming lmsys the other source's item stays.
    shards = [
        _shard(tmp_path, "sft", [_sft("lmsys", "Hi there"), _sft("glaive", "Hi there")]),
        _shard(tmp_path, "dpo", [_pair("lmsys-dpo", "Hi there")]),
    ]
    counts = run_dedup(
        shards, tmp_path / "twins", exact, "separate", dpo_only=[shards[1]], twins={"lmsys-dpo": ["lmsys"]}
    )
    kept = pq.read_table(tmp_path / "twins" / "sft.parquet")
    assert kept.column("origin").to_pylist() == ["glaive"] and kept.column("id").to_pylist() == [uid("Hi there")]
    assert counts["lmsys"]["by_deduper"] == {"dpo-only": {"sft": 1, "dpo": 0, "lost_to": {"lmsys-dpo": 1}}}
    assert "glaive" not in counts


def test_shared_ids_exceptions_follow_the_references_sources(tmp_path):
    """issue 28, row 10: in the reference a builder that never added ids blocked nothing (a
    python_alpaca item was lost to py-dpo in bagel), one that only checked lost ids but owned
    none, and one that only added was never dropped."""
    shards = [
        _shard(tmp_path, "a", [_pair("py-dpo", "Sort a list."), _pair("py-dpo", "Reverse a string.")]),
        _shard(tmp_path, "b", [_sft("python_alpaca", "Sort a list.")]),
        _shard(tmp_path, "c", [_sft("evol_instruct", "Reverse a string."), _sft("evol_instruct", "Add two numbers.")]),
        _shard(tmp_path, "d", [_pair("prefs", "Add two numbers."), _pair("prefs", "Say hi.")]),
        _shard(tmp_path, "e", [_sft("cinematika", "Say hi.")]),
    ]
    counts = run_dedup(shards, tmp_path / "all", exact, "shared")
    # Every loader checks and adds: py-dpo owns both prompts, evol_instruct owns its second.
    assert _totals(counts) == {"python_alpaca": (1, 0), "evol_instruct": (1, 0), "prefs": (0, 1), "cinematika": (1, 0)}
    roles = {"py-dpo": "none", "evol_instruct": "check", "cinematika": "add"}
    counts = run_dedup(shards, tmp_path / "ref", exact, "shared", shared_ids=roles)
    # py-dpo neither checks nor adds: python_alpaca keeps "Sort a list.", and py-dpo its pairs;
    # evol_instruct only checks, before prefs added "Add two numbers.": both keep it; prefs
    # owns "Say hi." but cinematika only adds, so it keeps it. Nothing is lost.
    assert _totals(counts) == {}
    assert _ids(tmp_path / "ref", "sft") == sorted(
        uid(t) for t in ("Sort a list.", "Reverse a string.", "Add two numbers.", "Say hi.")
    )
    assert _ids(tmp_path / "ref", "dpo") == sorted(
        uid(t) for t in ("Sort a list.", "Reverse a string.", "Add two numbers.", "Say hi.")
    )

    # A loader that only checks loses an id a pair added before it.
    late = [shards[3], _shard(tmp_path, "f", [_sft("evol_instruct", "Add two numbers.")])]
    counts = run_dedup(late, tmp_path / "late", exact, "shared", shared_ids={"evol_instruct": "check"})
    assert _totals(counts) == {"evol_instruct": (1, 0)}


def test_shared_ids_names_are_checked_against_installed_loaders():
    from bagel_core.config import ConfigError, RunConfig
    from bagel_core.pipeline import resolve
    from bagel_core.registry import load_plugins

    registry = load_plugins()
    ok = {"py-dpo": "none", "cinematika_memories": "none", "glaive-func": "none", "evol_instruct": "check"}
    resolve(RunConfig(sources=["ai2_arc"], dpo="none", decontaminate="none", shared_ids=ok), registry)
    with pytest.raises(ConfigError, match=r"shared_ids names \['py_dop'\]"):
        resolve(
            RunConfig(sources=["ai2_arc"], dpo="none", decontaminate="none", shared_ids={"py_dop": "none"}), registry
        )
    with pytest.raises(ConfigError, match="shared_ids"):
        RunConfig(shared_ids={"py-dpo": "sometimes"})
