"""The optional LM judge of the embedding decontaminator: plumbing only, with a tiny random
Llama built locally (its verdicts mean nothing; no real model is at hand to measure quality)."""

import decontam_plugin as plugin

from bagel_core.builtin.decontaminate.embedding import EmbeddingDecontaminator
from bagel_core.builtin.decontaminate.judge import LlmJudge
from bagel_core.components import BenchmarkText, Query

BENCH = [BenchmarkText("gsm8k", str(i), q) for i, q in enumerate(plugin.GSM8K[:20])]
QUERIES = [
    Query("verbatim", "s", plugin.GSM8K[1], (plugin.GSM8K[1],)),
    Query(
        "reworded",
        "s",
        plugin.GSM8K[2].replace("How much", "What amount"),
        (plugin.GSM8K[2].replace("How much", "What amount"),),
    ),
    Query("clean", "s", "Write a haiku about autumn leaves.", ("Write a haiku about autumn leaves.",)),
]


def _search(tmp_path, **options):
    d = EmbeddingDecontaminator(EmbeddingDecontaminator.Options(prefilter="none", **options), cache_dir=tmp_path)
    d.index(BENCH)
    return {m.id: m for m in d.search(QUERIES)}


def test_decontam_judge_off_by_default():
    assert EmbeddingDecontaminator.Options().judge == ""


def test_decontam_judge_tiny_llama_gives_one_verdict_per_pair(tiny_llama):
    judge = LlmJudge(str(tiny_llama), device="cpu", batch_size=2)
    verdicts = judge.judge([(q.text, b.text) for q in QUERIES for b in BENCH[:2]])
    assert len(verdicts) == 6 and all(isinstance(v, bool) for v in verdicts)
    prompt = judge.prompt("my text", "their question")
    assert "my text" in prompt and "their question" in prompt and prompt.endswith("Answer (Yes or No):")


def test_decontam_judge_decides_every_candidate(tmp_path, tiny_llama, monkeypatch):
    plain = _search(tmp_path)
    assert {"verbatim", "reworded"} <= set(plain) and "clean" not in plain
    # The tiny model runs end to end: its matches are among the candidates (threshold passed).
    judged = _search(tmp_path, judge=str(tiny_llama))
    assert set(judged) <= set(plain)

    seen: list[tuple[str, str]] = []

    def says(verdict):
        def judge(self, pairs):
            seen.extend(pairs)
            return [verdict] * len(pairs)

        return judge

    monkeypatch.setattr(LlmJudge, "judge", says(False))
    assert _search(tmp_path, judge=str(tiny_llama)) == {}
    monkeypatch.setattr(LlmJudge, "judge", says(True))
    assert set(_search(tmp_path, judge=str(tiny_llama))) == set(plain)
    # judge_below sends pairs under the threshold to the judge too: the clean text's nearest item.
    seen.clear()
    wide = _search(tmp_path, judge=str(tiny_llama), judge_below=2.0)
    assert set(wide) == {"verbatim", "reworded", "clean"}
    assert ("Write a haiku about autumn leaves.", wide["clean"].benchmark_text) in seen
