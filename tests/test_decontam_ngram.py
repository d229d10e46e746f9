"""The n-gram decontaminator on its own: normalisation, short texts, fractions, query text."""

from bagel_core.builtin.decontaminate.ngram import NgramDecontaminator, words
from bagel_core.components import BenchmarkText, Query

# GSM8K test item 1 (22 words) and an MMLU question shorter than 13 words.
GSM8K_1 = "A robe takes 2 bolts of blue fiber and half that much white fiber.  How many bolts in total does it take?"
MMLU_SHORT = "Which of the following is the body cavity that contains the pituitary gland?"  # 13 words
SHORT_10 = "The energy for all forms of life comes from the sun."  # 11 words
TINY = "What is the capital of France?"  # 6 words


def _decon(**options):
    d = NgramDecontaminator(NgramDecontaminator.Options(**options))
    d.index(
        [
            BenchmarkText("gsm8k", "1", GSM8K_1),
            BenchmarkText("mmlu", "anatomy/4", MMLU_SHORT),
            BenchmarkText("arc", "9", SHORT_10),
            BenchmarkText("tiny", "0", TINY),
        ]
    )
    return d


def _found(d, *texts):
    queries = [Query(str(i), "src", t, (t,)) for i, t in enumerate(texts)]
    return {m.id: (m.benchmark, m.benchmark_item, round(m.score, 3)) for m in d.search(queries)}


def test_decontam_words_fold_case_punctuation_whitespace_and_accents():
    assert words("Héllo,   WORLD!!\n naïve_café—résumé ß  2+2=4 東京") == [
        "hello",
        "world",
        "naive",
        "cafe",
        "resume",
        "ss",
        "2",
        "2",
        "4",
        "東京",
    ]
    assert words("...  ") == []


def test_decontam_ngram_matches_after_normalisation_and_names_the_item():
    d = _decon()
    shouted = "QUESTION:\n" + GSM8K_1.upper().replace(" ", "\t") + " Explain."
    found = _found(d, GSM8K_1, shouted, "A robe takes 2 bolts of blue fiber and half that much red fiber. How many?")
    assert found["0"] == ("gsm8k", "1", 1.0)
    assert found["1"][:2] == ("gsm8k", "1")
    assert "2" not in found  # the changed word breaks every 13-gram of this 17-word text


def test_decontam_ngram_unicode_variants_match():
    d = NgramDecontaminator()
    d.index(
        [BenchmarkText("b", "0", "Le café de la gare ferme à minuit chaque jour sauf le dimanche et les jours fériés")]
    )
    assert _found(d, "LE CAFE DE LA GARE FERME A MINUIT CHAQUE JOUR SAUF LE DIMANCHE, et les jours feries!") == {
        "0": ("b", "0", 1.0)
    }


def test_decontam_ngram_short_benchmark_texts():
    d = _decon(one_word_edit=False)
    found = _found(
        d,
        "Hint: the energy for ALL forms of life comes from the Sun. Why?",  # 11-word text quoted whole
        "the energy for all forms of life comes from the moon",  # not the whole text
        "what is the capital of france",  # 6 words: exact match only
        "Tell me: what is the capital of France?",  # a 6-word text is not searched inside others
    )
    assert found == {"0": ("arc", "9", 1.0), "2": ("tiny", "0", 1.0)}


def test_decontam_ngram_one_word_edit_of_a_short_text():
    d = _decon()
    found = _found(
        d,
        "the energy for all forms of life comes from the moon",  # one word changed
        "The energy for all forms of life comes from sun.",  # one word deleted
        "What is the capital city of France?",  # one word inserted
        "What is the largest city of France?",  # two words changed
        "Which of the following is the body cavity that contains the pituitary gland?",  # 13 words: n-grams
        "Which of the following is the body cavity that holds the pituitary gland?",  # 13 words: no edit rule
    )
    assert found == {
        "0": ("arc", "9", 0.909),
        "1": ("arc", "9", 0.909),
        "2": ("tiny", "0", 0.833),
        "4": ("mmlu", "anatomy/4", 1.0),
    }
    # Too short for the rule (fewer than 5 words by default): one changed word is another question.
    short = NgramDecontaminator()
    short.index([BenchmarkText("mt", "0", "Name three primary colors.")])
    assert _found(short, "Name three secondary colors.", "Name three primary colours.") == {}
    assert _found(_decon(one_word_edit=False), "The energy for all forms of life comes from sun.") == {}


def test_decontam_ngram_one_edit_apart():
    from bagel_core.builtin.decontaminate.ngram import one_edit_apart

    a = "are all jews actually jews".split()
    assert one_edit_apart(a, "are all jews actually number".split())
    assert one_edit_apart(a, "are all jews jews".split())
    assert one_edit_apart(a, "are all the jews actually jews".split())
    assert not one_edit_apart(a, a)
    assert not one_edit_apart(a, "are all jews really truly jews".split())
    assert not one_edit_apart(a, "all jews actually jews are".split())


def test_decontam_ngram_min_fraction_and_n():
    long_query = GSM8K_1 + " " + " ".join(f"filler{i}" for i in range(40))
    assert "0" in _found(_decon(), long_query)
    assert _found(_decon(min_fraction=0.5), long_query) == {}  # 10 of 62 13-grams shared
    assert "0" in _found(_decon(n=5, min_words=5), "half that much white fiber")  # the 5-gram is whole


def test_decontam_ngram_query_text_option():
    turns = ("Hello there, can you help?", GSM8K_1)
    query = Query("q", "src", turns[0], turns)
    assert list(_decon(query_text="first").search([query])) == []
    [match] = _decon().search([query])  # every human turn by default
    assert (match.benchmark_item, match.text, match.views) == ("1", GSM8K_1, "text<-turn2")


def test_decontam_ngram_checks_answers():
    query = Query("q", "src", "Solve my homework.", ("Solve my homework.",), ("Sure. " + GSM8K_1,))
    [match] = _decon().search([query])
    assert (match.benchmark_item, match.views) == ("1", "text<-answer1")
    assert list(_decon(answers=False).search([query])) == []


def test_decontam_ngram_window_hashes_are_the_rolling_polynomial():
    import numpy as np

    from bagel_core.builtin.decontaminate.ngram import window_hashes

    rng = np.random.default_rng(0)
    values = rng.integers(0, 2**63, 40, dtype=np.int64).view(np.uint64)
    base, mask = 0x9E3779B97F4A7C15, 2**64 - 1
    expected = []
    for start in range(40 - 13 + 1):
        h = 0
        for v in values[start : start + 13].tolist():
            h = (h * base + v) & mask
        expected.append(h)
    assert window_hashes(values, 13).tolist() == expected
    assert window_hashes(values[:12], 13).tolist() == []


def test_decontam_ngram_a_batch_finds_what_single_queries_find_and_no_window_spans_two_views(shared_data):
    import csv
    import json

    with open(shared_data / "benchmarks" / "gsm8k" / "test.jsonl", encoding="utf-8") as f:
        gsm8k = [json.loads(line)["question"] for line in f][:300]
    with open(
        shared_data / "sources" / "mmlu" / "auxiliary_train_science_middle.csv", newline="", encoding="utf-8"
    ) as f:
        clean = [row[0] for row in csv.reader(f)][:300]
    d = NgramDecontaminator()
    d.index([BenchmarkText("gsm8k", str(i), t) for i, t in enumerate(gsm8k)])
    queries = [Query(f"clean{i}", "src", t, (t,), ("An answer.",)) for i, t in enumerate(clean)]
    queries += [
        Query(f"copy{i}", "src", "Solve: " + gsm8k[i].upper(), ("Solve: " + gsm8k[i].upper(),))
        for i in range(0, 300, 15)
    ]
    # The first seven words of an item end the question, the next six start the answer: no
    # 13-word window of one view holds them.
    split = [gsm8k[i].split() for i in range(1, 300, 30)]
    queries += [
        Query(f"split{i}", "src", " ".join(w[:7]), (" ".join(w[:7]),), (" ".join(w[7:13]),))
        for i, w in enumerate(split)
    ]
    key = lambda m: (m.id, m.benchmark_item, m.score, m.text, m.views)  # noqa: E731
    batch = [key(m) for m in d.search(queries)]
    assert batch == [key(m) for q in queries for m in d.search([q])]
    found = {k[0] for k in batch}
    assert {f"copy{i}" for i in range(0, 300, 15)} <= found
    assert not {k for k in found if k.startswith("split")}
