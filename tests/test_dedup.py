"""Dedupers: the chain in the dedup stage, the priority rule for near-duplicate clusters, the
minhash deduper on real text, the report and counts, and a third-party deduper."""

import csv
import random
import types

import numpy as np
import pyarrow.parquet as pq
import pytest
from engine_fixtures import write_jsonl

from bagel_core import DedupBatch, Deduper, Duplicate, hookimpl
from bagel_core.builtin.dedup.minhash import CANDIDATE_RECALL, MinHashDeduper, banding, shingles
from bagel_core.config import ConfigError, RunConfig
from bagel_core.pipeline import run
from bagel_core.testing import registry_with

TOY = dict(sources="toy-high,toy-low", dpo="toy-pairs", formats="vicuna", dedup="exact,minhash", decontaminate="none")


def real_texts(shared_data, count: int, min_words: int = 30) -> list[str]:
    """Distinct real questions with their choices (MMLU auxiliary-train science)."""
    texts = []
    with open(
        shared_data / "sources" / "mmlu" / "auxiliary_train_science_middle.csv", newline="", encoding="utf-8"
    ) as f:
        for row in csv.reader(f):
            text = row[0] + "\n" + "\n".join(f"{'ABCD'[i]}. {c}" for i, c in enumerate(row[1:-1]))
            if len(text.split()) >= min_words and text not in texts:
                texts.append(text)
    assert len(texts) >= count
    return texts[:count]


def one_word_changed(text: str, seed: int) -> str:
    words = text.split(" ")
    words[random.Random(seed).randrange(len(words) // 2, len(words))] = "banana"
    return " ".join(words)


@pytest.fixture
def near_root(tmp_path, shared_data):
    """toy-high (priority 5) holds edited copies of ten real questions; toy-low (priority 1)
    the originals, twenty distinct questions, and a prefixed copy of one of its own."""
    texts = real_texts(shared_data, 30)
    root = tmp_path / "data"
    write_jsonl(
        root / "toy" / "high" / "rows.jsonl",
        [{"q": one_word_changed(t, i), "a": f"answer {i}"} for i, t in enumerate(texts[:10])],
    )
    low = [{"n": i, "turns": [[t, f"low answer {i}"]]} for i, t in enumerate(texts)]
    low.append({"n": 30, "turns": [["Answer the following question. " + texts[12], "again"]]})
    write_jsonl(root / "toy" / "low" / "rows.jsonl", low)
    write_jsonl(root / "toy" / "pairs" / "rows.jsonl", [{"prompt": texts[0], "chosen": "good", "rejected": "bad"}])
    return root, texts


def sft_inputs(out) -> list[str]:
    return [r["prompt"] for r in pq.read_table(out / "sft.parquet").to_pylist()]


def test_near_duplicates_across_sources_keep_the_higher_priority_item(tmp_path, near_root, toy_registry):
    root, texts = near_root
    manifest = run(RunConfig(out=tmp_path / "out", data_root=root, **TOY), toy_registry).manifest.to_json()
    low = manifest["sources"]["toy-low"]
    assert low["dedup"] == {"minhash": {"removed": 11, "lost_to": {"toy-high": 10, "toy-low": 1}}}
    assert low["duplicates"] == 11 and manifest["sources"]["toy-high"]["duplicates"] == 0
    assert manifest["dedupers"] == ["exact", "minhash"]
    inputs = "\n".join(sft_inputs(tmp_path / "out"))
    assert all(one_word_changed(t, i) in inputs for i, t in enumerate(texts[:10]))
    assert all(t in inputs for t in texts[10:])  # distinct real questions are all kept
    report = pq.read_table(tmp_path / "out" / "near_duplicates.parquet").to_pylist()
    assert len(report) == 11
    by_text = {r["text"]: r for r in report}
    for i, t in enumerate(texts[:10]):
        r = by_text[t]
        assert (r["scope"], r["source"], r["kept_source"], r["deduper"]) == ("sft", "toy-low", "toy-high", "minhash")
        assert r["kept_text"] == one_word_changed(t, i) and 0.7 <= r["similarity"] < 1
    prefixed = by_text["Answer the following question. " + texts[12]]
    assert (prefixed["kept_source"], prefixed["kept_text"]) == ("toy-low", texts[12])
    card = (tmp_path / "out" / "README.md").read_text()
    assert "| toy-low | minhash | 11 | toy-high 10, toy-low 1 |" in card


def test_priority_override_flips_the_winner_of_each_cluster(tmp_path, near_root, toy_registry):
    root, texts = near_root
    config = RunConfig(out=tmp_path / "out", data_root=root, **TOY, options={"source": {"toy-low": {"priority": 9}}})
    manifest = run(config, toy_registry).manifest.to_json()
    assert manifest["sources"]["toy-high"]["dedup"] == {"minhash": {"removed": 10, "lost_to": {"toy-low": 10}}}
    inputs = "\n".join(sft_inputs(tmp_path / "out"))
    assert all(t in inputs for t in texts) and not any(
        one_word_changed(t, i) in inputs for i, t in enumerate(texts[:10])
    )


def test_same_result_for_any_num_proc_and_source_order(tmp_path, near_root, toy_registry, start_method):
    root, _ = near_root
    a = run(RunConfig(out=tmp_path / "a", data_root=root, num_proc=1, **TOY), toy_registry)
    b = run(
        RunConfig(out=tmp_path / "b", data_root=root, num_proc=2, **dict(TOY, sources="toy-low,toy-high")), toy_registry
    )
    for name in ("sft.parquet", "dpo.parquet", "near_duplicates.parquet"):
        assert pq.read_table(tmp_path / "a" / name).to_pylist() == pq.read_table(tmp_path / "b" / name).to_pylist()
    assert a.manifest.to_json()["sources"] == b.manifest.to_json()["sources"]


def test_minhash_skips_the_sources_it_is_told_to(tmp_path, near_root, toy_registry):
    root, texts = near_root
    config = RunConfig(
        out=tmp_path / "out", data_root=root, **TOY, options={"deduper": {"minhash": {"skip_sources": ["toy-high"]}}}
    )
    manifest = run(config, toy_registry).manifest.to_json()
    # toy-high's edited copies are neither removed nor kept in place of toy-low's originals;
    # toy-low's own prefixed copy is still removed.
    assert manifest["sources"]["toy-low"]["dedup"] == {"minhash": {"removed": 1, "lost_to": {"toy-low": 1}}}
    assert manifest["sources"]["toy-high"]["dedup"] == {}


def test_exact_alone_is_the_reference_dedup_and_none_keeps_everything(tmp_path, near_root, toy_registry):
    root, _ = near_root
    exact = run(
        RunConfig(out=tmp_path / "a", data_root=root, **dict(TOY, dedup="exact")), toy_registry
    ).manifest.to_json()
    assert exact["totals"]["duplicates"] == 0 and exact["sources"]["toy-low"]["dedup"] == {}
    none = run(
        RunConfig(out=tmp_path / "b", data_root=root, **dict(TOY, dedup="none")), toy_registry
    ).manifest.to_json()
    assert none["dedupers"] == [] and none["totals"]["duplicates"] == 0


def test_minhash_options_are_checked_before_loading(tmp_path, near_root, toy_registry):
    root, _ = near_root
    config = RunConfig(
        out=tmp_path / "out",
        data_root=root,
        **TOY,
        options={"deduper": {"minhash": {"bands": 500, "permutations": 128}}},
    )
    with pytest.raises(
        ConfigError, match=r"deduper 'minhash': minhash: bands \(500\) must be at most permutations \(128\)"
    ):
        run(config, toy_registry)
    assert not (tmp_path / "out" / ".bagel-work" / "load").exists()
    for bad, message in (
        ({"threshold": 1.5}, "threshold"),
        ({"shingle": "sentence"}, "shingle"),
        ({"shingle_size": 0}, "shingle_size"),
    ):
        config = RunConfig(out=tmp_path / "out", data_root=root, **TOY, options={"deduper": {"minhash": bad}})
        with pytest.raises(ConfigError, match=message):
            run(config, toy_registry)


# --- the minhash deduper alone ---------------------------------------------------------------


def feed(deduper: Deduper, texts: list[str], batch: int) -> list[tuple[int, int]]:
    for start in range(0, len(texts), batch):
        chunk = texts[start : start + batch]
        positions = list(range(start, start + len(chunk)))
        deduper.add(DedupBatch(positions, [str(p) for p in positions], ["s"] * len(chunk), chunk))
    return sorted((d.position, d.kept) for d in deduper.duplicates())


def test_minhash_keeps_the_first_of_each_cluster_whatever_the_batches(shared_data):
    texts = real_texts(shared_data, 40)
    items = []
    for i, t in enumerate(texts[:20]):
        items += [t, one_word_changed(t, i)] if i % 2 else [t]
    items += texts[20:] + ["", "?!", texts[3].upper()]
    expected = feed(MinHashDeduper(), items, 1000)
    assert expected == feed(MinHashDeduper(), items, 1) == feed(MinHashDeduper(), items, 7)
    # Each edited copy is removed in favour of the original just before it; the upper-cased
    # copy of texts[3] normalises to the same shingles; empty texts are never duplicates.
    copies = [(items.index(one_word_changed(t, i)), items.index(t)) for i, t in enumerate(texts[:20]) if i % 2]
    assert expected == sorted(copies + [(len(items) - 1, items.index(texts[3]))])


@pytest.mark.parametrize("size", [1, 2, 3, 5])
def test_word_shingle_hashes_are_the_shingle_sets(shared_data, size):
    from bagel_core.builtin.decontaminate.ngram import words
    from bagel_core.builtin.dedup.minhash import normalised_words, word_shingle_hashes

    texts = real_texts(shared_data, 200, min_words=1) + [
        "",
        "!!",
        "One",
        "one two",
        "One two three four",
        " _a_b_ ",
        "Café naïve ÜBER Straße, 東京 x_y",
        "  ÉÉ  ",
    ]
    lengths, flat = normalised_words(texts)
    assert [flat.slice(a, n).to_pylist() for a, n in zip(np.cumsum(lengths) - lengths, lengths)] == [
        words(t) for t in texts
    ]
    deduper = MinHashDeduper()
    present, hashes, offsets = word_shingle_hashes(lengths, flat, size, deduper._hash_words)
    assert present.tolist() == [i for i, t in enumerate(texts) if shingles(t, "word", size)]
    by_hash: dict[int, str] = {}
    for n, i in enumerate(present.tolist()):
        ws = words(texts[i])
        mine = hashes[offsets[n] : offsets[n + 1]].tolist()
        assert len(mine) == len(_windows(ws, size))
        assert len(set(mine)) == len(shingles(texts[i], "word", size))
        for h, window in zip(mine, _windows(ws, size)):  # one hash per shingle ...
            assert by_hash.setdefault(h, " ".join(window)) == " ".join(window)
    assert len(set(by_hash.values())) == len(by_hash)  # ... and one shingle per hash


def _windows(ws, size):
    return [ws] if len(ws) <= size else [ws[j : j + size] for j in range(len(ws) - size + 1)]


def test_shingles_and_banding():
    assert shingles("The cat, the CAT!", "word", 2) == {"the cat", "cat the"}
    assert shingles("Hi", "word", 3) == {"hi"} and shingles("...", "word", 3) == set()
    assert shingles("abcd", "char", 3) == {"abc", "bcd"}
    bands, rows = banding(0.7, 128)
    assert 1 - (1 - 0.7**rows) ** bands >= CANDIDATE_RECALL
    assert 1 - (1 - 0.7 ** (rows + 1)) ** (128 // (rows + 1)) < CANDIDATE_RECALL  # the most rows that reach it


# --- third-party dedupers ------------------------------------------------------------------------


class FirstLine(Deduper):
    name = "first-line"
    description = "Same first line"

    def __init__(self, options=None, cache_dir=None):
        super().__init__(options, cache_dir)
        self.first, self.found = {}, []

    def add(self, batch):
        for position, text in zip(batch.positions, batch.texts):
            kept = self.first.setdefault(text.split("\n")[0], position)
            if kept != position:
                self.found.append(Duplicate(position, kept, 0.5))

    def duplicates(self):
        return self.found


class Backwards(FirstLine):
    name = "backwards"
    description = "Points duplicates at later items (wrong)"

    def duplicates(self):
        return [Duplicate(d.kept, d.position, 0.5) for d in self.found]


def _plugin(*classes):
    module = types.ModuleType("my_dedupers")

    @hookimpl
    def register_dedupers(register):
        for cls in classes:
            register(cls)

    module.register_dedupers = register_dedupers
    return module


def test_third_party_deduper_registers_and_runs_in_the_chain(tmp_path, toy_root):
    import toy_plugin

    registry = registry_with(("toy", toy_plugin), ("mine", _plugin(FirstLine)), strict=False)
    assert registry.get("deduper", "first-line").plugin.name == "mine"
    # toy-low's two jokes share their first human turn but differ later: exact keeps both
    # ids apart only when their human turns differ, first-line removes the second.
    write_jsonl(
        toy_root / "toy" / "low" / "rows.jsonl",
        [
            {"n": 0, "turns": [["Tell me a joke.", "A"], ["Another?", "B"]]},
            {"n": 1, "turns": [["Tell me a joke.", "C"], ["Why?", "D"]]},
        ],
    )
    config = RunConfig(
        out=tmp_path / "out",
        data_root=toy_root,
        sources="toy-low",
        dpo="none",
        formats="vicuna",
        decontaminate="none",
        dedup="exact,first-line",
    )
    manifest = run(config, registry).manifest.to_json()
    assert manifest["sources"]["toy-low"]["dedup"] == {"first-line": {"removed": 1, "lost_to": {"toy-low": 1}}}
    [row] = pq.read_table(tmp_path / "out" / "near_duplicates.parquet").to_pylist()
    assert (row["deduper"], row["similarity"], row["text"], row["kept_text"]) == (
        "first-line",
        0.5,
        "Tell me a joke.\nWhy?",
        "Tell me a joke.\nAnother?",
    )


def test_a_deduper_pointing_at_a_later_item_fails_naming_it(tmp_path, toy_root):
    import toy_plugin

    registry = registry_with(("toy", toy_plugin), ("mine", _plugin(Backwards)), strict=False)
    config = RunConfig(
        out=tmp_path / "out",
        data_root=toy_root,
        sources="toy-low",
        dpo="none",
        formats="vicuna",
        decontaminate="none",
        dedup="backwards",
    )
    with pytest.raises(ValueError, match="deduper 'backwards' reported item 1 as a duplicate of item 4"):
        run(config, registry)


# --- the semantic deduper ------------------------------------------------------------------------


def test_semantic_keeps_the_first_of_each_cluster_and_shares_the_embedding_cache(tmp_path, shared_data, monkeypatch):
    from bagel_core.builtin.dedup import semantic as dedup_semantic

    monkeypatch.setattr(dedup_semantic, "WALK_BATCH", 3)  # the index and the within-batch path
    texts = real_texts(shared_data, 6)
    items = [
        texts[0],
        texts[1],
        one_word_changed(texts[0], 0),
        texts[2],
        texts[3],
        "   ",
        texts[4],
        one_word_changed(texts[3], 1),
        texts[5],
    ]
    deduper = dedup_semantic.SemanticDeduper(cache_dir=tmp_path / "cache" / "semantic")
    assert feed(deduper, items, 4) == [(2, 0), (7, 4)]
    assert list((tmp_path / "cache" / "embedding").glob("*/*.keys.npy"))  # the decontaminator's cache folder
