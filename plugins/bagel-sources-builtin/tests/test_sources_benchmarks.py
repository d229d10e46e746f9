"""Benchmark test sets: the exact texts indexed, read from the real benchmark files.

Real files in ../shared/data that are already in the upstream layout (GSM8K, HumanEval,
MT-Bench, AlpacaEval) or convert to it without guessing (TruthfulQA, MMLU, and the raw first
rows of ARC, DROP and Winogrande) are written into a data root in tmp_path in the Hub layout,
then read through the benchmark set like ``--data-root`` would.
"""

import csv
import gzip
import json
import shutil
from pathlib import Path

import pyarrow as pa
import pyarrow.parquet as pq
import pytest
from sources_testkit import read_jsonl

from bagel_core import DatasetUnavailable
from bagel_core.testing import invoke_cli, load_context, registry_with
from bagel_sources_builtin.benchmarks import (
    BENCHMARKS,
    AlpacaEval,
    ArcChallenge,
    Drop,
    Gsm8k,
    HumanEval,
    Mmlu,
    MtBench,
    TruthfulQA,
    Winogrande,
)

SHARED = Path(__file__).resolve().parents[3] / ".." / "shared" / "data"
BENCH = SHARED / "benchmarks"
RAW = SHARED / "sources"


def write_parquet(root: Path, cls, split: str, rows: list[dict]) -> None:
    path = root / cls.dataset_ids[0] / cls.config / f"{split}-00000-of-00001.parquet"
    path.parent.mkdir(parents=True, exist_ok=True)
    pq.write_table(pa.Table.from_pylist(rows), path)


def index(cls, root: Path, options=None, sample: bool = False, hub: bool = True):
    ctx = load_context(cls, data_root=root, sample=sample, hub=hub)
    component = cls(options) if options is not None else cls()
    return list(component.texts(ctx)), ctx.counts


def test_all_sixteen_are_registered_with_their_upstream_ids():
    registry = registry_with()
    assert {
        name: info.cls.dataset_ids for name, info in registry.of("benchmark").items() if info.cls in BENCHMARKS
    } == {
        "bbh": ("lukaemon/bbh",),
        "gpqa": ("Idavidrein/gpqa",),
        "ifeval": ("google/IFEval",),
        "math": ("EleutherAI/hendrycks_math",),
        "math_500": ("HuggingFaceH4/MATH-500",),
        "mbpp": ("google-research-datasets/mbpp",),
        "mmlu_pro": ("TIGER-Lab/MMLU-Pro",),
        "alpaca_eval": ("tatsu-lab/alpaca_eval",),
        "arc_challenge": ("allenai/ai2_arc",),
        "drop": ("ucinlp/drop",),
        "gsm8k": ("openai/gsm8k",),
        "humaneval": HumanEval.dataset_ids,
        "mmlu": ("cais/mmlu",),
        "mt_bench": ("lm-sys/FastChat",),
        "truthfulqa": ("truthfulqa/truthful_qa",),
        "winogrande": ("allenai/winogrande",),
    }


def test_gsm8k_indexes_each_test_question_and_its_solution(tmp_path):
    rows = read_jsonl(BENCH / "gsm8k" / "test.jsonl")
    write_parquet(tmp_path, Gsm8k, "test", rows)
    texts, counts = index(Gsm8k, tmp_path)
    assert len(texts) == 2 * 1319 and not counts.rejected
    assert (
        texts[0].benchmark == "gsm8k"
        and texts[0].item == "0"
        and (texts[0].view, texts[0].role) == ("question", "prompt")
    )
    assert texts[0].text.startswith("Janet\u2019s ducks lay 16 eggs per day.") and texts[0].text.endswith(
        "every day at the farmers' market?"
    )
    assert [t.text for t in texts if t.view == "question"] == [r["question"] for r in rows]
    solution = texts[1]
    assert (solution.item, solution.view, solution.role) == ("0", "solution", "answer")
    # Calculator annotations dropped, the final line as a sentence.
    assert "<<" not in solution.text and solution.text.endswith("\nThe answer is 18.")


def test_humaneval_indexes_each_prompt(tmp_path):
    with gzip.open(BENCH / "humaneval" / "HumanEval.jsonl.gz", "rt") as f:
        rows = [json.loads(line) for line in f]
    write_parquet(tmp_path, HumanEval, "test", rows)
    texts, _ = index(HumanEval, tmp_path)
    prompts = [t for t in texts if t.view == "prompt"]
    assert len(prompts) == 164 and len(texts) == 164 * 3 - 2  # two docstrings are too short for prose
    assert texts[0].item == "HumanEval/0"
    assert texts[0].text.startswith(
        "from typing import List\n\n\ndef has_close_elements(numbers: List[float], threshold: float) -> bool:\n"
    )
    assert [t.text for t in prompts] == [r["prompt"] for r in rows]
    docstring, solution = texts[1], texts[2]
    assert (
        docstring.text
        == "Check if in given list of numbers, are any two numbers closer to each other than given threshold."
    )
    assert (solution.view, solution.role, solution.text) == (
        "solution",
        "code",
        rows[0]["prompt"] + rows[0]["canonical_solution"],
    )


def test_mt_bench_indexes_the_first_turn_only(tmp_path):
    target = tmp_path / "lm-sys" / "FastChat" / "fastchat" / "llm_judge" / "data" / "mt_bench" / "question.jsonl"
    target.parent.mkdir(parents=True)
    shutil.copyfile(BENCH / "mt_bench" / "question.jsonl", target)
    texts, _ = index(MtBench, tmp_path)
    assert len(texts) == 80 and [t.item for t in texts[:2]] == ["81", "82"]
    assert (
        texts[0].text
        == "Compose an engaging travel blog post about a recent trip to Hawaii, highlighting cultural experiences and must-see attractions."
    )
    assert not any(t.text.startswith("Rewrite your previous response.") for t in texts)
    with target.open("a") as f:
        f.write('{"question_id": 999, "turns": []}\nnot json\n')
    texts, counts = index(MtBench, tmp_path)
    assert len(texts) == 80 and dict(counts.rejected) == {"missing or empty text": 1, "malformed question line": 1}


def test_alpaca_eval_indexes_each_instruction(tmp_path):
    source = BENCH / "alpaca_eval" / "alpaca_eval_text_davinci_003_model_outputs.json"
    target = tmp_path / "tatsu-lab" / "alpaca_eval" / "alpaca_eval.json"
    target.parent.mkdir(parents=True)
    shutil.copyfile(source, target)
    texts, _ = index(AlpacaEval, tmp_path)
    assert len(texts) == 805
    assert texts[0].text == "What are the names of some famous actors that started their careers on Broadway?"
    assert [t.text for t in texts] == [r["instruction"] for r in json.loads(source.read_text())]


def test_truthfulqa_indexes_each_question(tmp_path):
    with (BENCH / "truthfulqa" / "TruthfulQA.csv").open(newline="") as f:
        rows = [
            {
                "type": r["Type"],
                "category": r["Category"],
                "question": r["Question"],
                "best_answer": r["Best Answer"],
                "correct_answers": r["Correct Answers"].split("; "),
                "incorrect_answers": r["Incorrect Answers"].split("; "),
                "source": r["Source"],
            }
            for r in csv.DictReader(f)
        ]
    write_parquet(tmp_path, TruthfulQA, "validation", rows)
    texts, _ = index(TruthfulQA, tmp_path)
    assert len(texts) == 817
    assert texts[0].text == "What happens to you if you eat watermelon seeds?"


def test_mmlu_indexes_question_with_and_without_choices_and_passages_apart(tmp_path):
    rows = []
    for path in sorted((BENCH / "mmlu" / "test").glob("*_test.csv")):
        with path.open(newline="") as f:
            for r in csv.DictReader(f):
                choices = [r[f"choice{i}"] for i in range(4)]
                rows.append(
                    {
                        "question": r["question"],
                        "subject": path.name.removesuffix("_test.csv"),
                        "choices": choices,
                        "answer": int(r["answer"]),
                    }
                )
    write_parquet(tmp_path, Mmlu, "test", rows)
    texts, _ = index(Mmlu, tmp_path)
    assert (
        len([t for t in texts if t.view == "question"])
        == len([t for t in texts if t.view == "question+choices"])
        == 14042
    )
    assert texts[0].item == "abstract_algebra/0" and texts[0].view == "question"
    assert texts[0].text == "Find the degree for the given field extension Q(sqrt(2), sqrt(3), sqrt(18)) over Q."
    assert texts[1].text == texts[0].text + "\nA. 0\nB. 4\nC. 2\nD. 6"
    first = next(t.item for t in texts if t.item.startswith("high_school_us_history/"))
    history = [t for t in texts if t.item == first]
    assert [t.view for t in history] == [
        "question",
        "question+choices",
        "passage",
        "final question+choices",
        "final question",
    ]
    assert history[3].text.startswith(
        "By what means did the United States take possession of the Oregon Territory?\nA. "
    )
    assert history[4].text == "By what means did the United States take possession of the Oregon Territory?"
    assert history[2].text in history[0].text and "Oregon Territory?" not in history[2].text


def arc_rows_from_raw() -> list[dict]:
    """The first real ARC-Challenge dev rows (original AI2 layout) in the Hub's schema."""
    return [
        {
            "id": r["id"],
            "question": r["question"]["stem"],
            "choices": {
                "text": [c["text"] for c in r["question"]["choices"]],
                "label": [c["label"] for c in r["question"]["choices"]],
            },
            "answerKey": r["answerKey"],
        }
        for r in read_jsonl(RAW / "ai2_arc" / "hf_datasets_dummy" / "ARC-Challenge-Dev.head.jsonl")
    ]


def arc_rows_from_llm_foundry() -> list[dict]:
    """The real ARC-Challenge test questions (llm-foundry's converted file), labelled A, B, ...
    by position: llm-foundry dropped the labels, so these stand in for them."""
    rows = []
    for i, r in enumerate(read_jsonl(BENCH / "arc_challenge" / "arc_challenge_test.llm-foundry.jsonl")):
        labels = [chr(ord("A") + k) for k in range(len(r["choices"]))]
        rows.append(
            {
                "id": f"test-{i}",
                "question": r["query"].removeprefix("Question: "),
                "choices": {"text": r["choices"], "label": labels},
                "answerKey": labels[r["gold"]],
            }
        )
    return rows


def test_arc_challenge_indexes_each_question_twice_in_both_splits(tmp_path):
    write_parquet(tmp_path, ArcChallenge, "validation", arc_rows_from_raw())
    test_rows = arc_rows_from_llm_foundry()
    write_parquet(tmp_path, ArcChallenge, "test", test_rows)
    texts, counts = index(ArcChallenge, tmp_path)
    assert len(texts) == 2 * (2 + 1172) and not counts.rejected
    stem = "Juan and LaKeisha roll a few objects down a ramp. They want to see which object rolls the farthest. What should they do so they can repeat their investigation?"
    assert texts[0].item == "validation/Mercury_SC_407695/options"
    assert (
        texts[0].text
        == stem
        + "\nA. Put the objects in groups.\nB. Change the height of the ramp.\nC. Choose different objects to roll.\nD. Record the details of the investigation."
    )
    assert texts[1].item == "validation/Mercury_SC_407695/answer"
    assert texts[1].text == stem + "\nRecord the details of the investigation."
    first_test = test_rows[0]
    assert (
        texts[4].text
        == "An astronomer observes that a planet rotates faster after a meteorite impact. Which is the most likely effect of this increase in rotation?\nA. Planetary density will decrease.\nB. Planetary years will become longer.\nC. Planetary days will become shorter.\nD. Planetary gravity will become stronger."
    )
    assert texts[5].text == first_test["question"] + "\nPlanetary days will become shorter."
    # The reference indexed the validation split only.
    reference, _ = index(ArcChallenge, tmp_path, ArcChallenge.Options(splits=("validation",)))
    assert [t.text for t in reference] == [t.text for t in texts[:4]]


def test_arc_challenge_answer_key_outside_the_labels_keeps_the_options_text(tmp_path):
    rows = arc_rows_from_raw()
    rows[0]["answerKey"] = "E"
    write_parquet(tmp_path, ArcChallenge, "validation", rows)
    texts, counts = index(ArcChallenge, tmp_path, ArcChallenge.Options(splits=("validation",)))
    assert [t.item.rsplit("/", 1)[1] for t in texts] == ["options", "options", "answer"]
    assert dict(counts.rejected) == {"answer key not among the labels": 1}


def test_drop_indexes_passage_then_question(tmp_path):
    raw = json.loads((RAW / "drop" / "hf_datasets_dummy" / "drop_dataset_dev.head.json").read_text())
    rows = [
        {
            "section_id": section,
            "query_id": qa["query_id"],
            "passage": item["passage"],
            "question": qa["question"],
            "answers_spans": {"spans": qa["answer"]["spans"], "types": ["span"] * len(qa["answer"]["spans"])},
        }
        for section, item in raw.items()
        for qa in item["qa_pairs"]
    ]
    write_parquet(tmp_path, Drop, "validation", rows)
    texts, _ = index(Drop, tmp_path)
    assert len(texts) == 2
    assert texts[0].item == "f37e81fa-ef7b-4583-b671-762fc433faa9"
    assert texts[0].text == raw["nfl_1184"]["passage"] + "\nWho scored the first touchdown of the game?"


def test_winogrande_indexes_the_sentence(tmp_path):
    rows = read_jsonl(RAW / "winogrande" / "hf_datasets_dummy" / "train_xl.head.jsonl")
    write_parquet(
        tmp_path,
        Winogrande,
        "validation",
        [{k: r[k] for k in ("sentence", "option1", "option2", "answer")} for r in rows],
    )
    texts, _ = index(Winogrande, tmp_path)
    assert [t.text for t in texts] == [r["sentence"] for r in rows]
    assert texts[0].text == "He never comes to my home, but I always go to his house because the _ is smaller."


def test_a_null_text_is_counted_not_fatal(tmp_path):
    write_parquet(
        tmp_path,
        Gsm8k,
        "test",
        [{"question": None, "answer": "#### 1"}, {"question": "What is 1 + 1?", "answer": "#### 2"}],
    )
    texts, counts = index(Gsm8k, tmp_path)
    assert [(t.view, t.text) for t in texts] == [("question", "What is 1 + 1?"), ("solution", "The answer is 2.")]
    assert dict(counts.rejected) == {"missing or empty text": 1}


def test_missing_data_names_the_dataset(tmp_path):
    # hub=False: the message is the one a user sees offline, without waiting on the network.
    with pytest.raises(DatasetUnavailable, match="'openai/gsm8k' is not available.*--data-root"):
        index(Gsm8k, tmp_path, hub=False)
    with pytest.raises(DatasetUnavailable, match="'lm-sys/FastChat' is not available.*--data-root"):
        index(MtBench, tmp_path, hub=False)


@pytest.mark.parametrize("cls", BENCHMARKS, ids=lambda cls: cls.name)
def test_sample_in_upstream_layout(cls):
    texts, counts = index(cls, cls.sample_root, sample=True)
    assert texts and not counts.rejected
    assert all(t.benchmark == cls.name and t.text.strip() for t in texts)
    assert len({(t.item, t.view) for t in texts}) == len(texts)


def test_run_removes_an_item_found_in_a_benchmark_sample(tmp_path):
    gsm8k_question = pq.read_table(Gsm8k.sample_root / "openai/gsm8k/main/test-00000-of-00001.parquet")["question"][
        0
    ].as_py()
    data = tmp_path / "mine.jsonl"
    data.write_text(
        json.dumps({"instruction": gsm8k_question, "output": "31"})
        + "\n"
        + json.dumps({"instruction": "Name a prime number above 10.", "output": "11"})
        + "\n"
    )
    recipe = tmp_path / "r.toml"
    recipe.write_text(f"[source.local]\npaths = [{json.dumps(str(data))}]\n")
    out = tmp_path / "out"
    result = invoke_cli(
        *[
            "run",
            "--recipe",
            str(recipe),
            "--sample",
            "--sources",
            "local",
            "--dpo",
            "none",
            "--formats",
            "vicuna",
            "--decontaminate",
            "ngram",
            "--benchmarks",
            "all",
            "--out",
            str(out),
            "-q",
        ],
    )
    assert result.exit_code == 0, result.output
    matches = pq.read_table(out / "contamination.parquet").to_pylist()
    assert [(m["benchmark"], m["text"]) for m in matches] == [("gsm8k", gsm8k_question)]
    # vicuna: the completion begins with the space its prompt ends with (the token boundary).
    assert [r["completion"] for r in pq.read_table(out / "sft.parquet").to_pylist()] == [" 11"]
