"""Development data from the field's own benchmark: the public release of LMSYS's
llm-decontaminator (arXiv 2311.04850), in ``../shared/data/decontam/`` (see
``../shared/data/PROVENANCE.md``), as training items (human turns and answers).

The rephrases were written by GPT-4, not by our rules: line ``i`` of a rephrase file rephrases
item ``i`` of its test set. Nothing of it is stored in the repository.

Split (fixed): a case is in ``dev`` or ``held-out`` by the benchmark item it copies,
``split_of(f"{benchmark}/{item}")`` of ``decontamination_devset`` (``dev`` when the first byte
of the SHA-1 of ``gsm8k/17``, ``mmlu/sociology/4``, ``humaneval/HumanEval/12`` is even), the
same rule and ids as the rule-built development set, so an item is in the same half in both.
A CodeAlpacaDB row is split by the HumanEval item it was retrieved for. Calibrate on ``dev``
only; ``held-out`` is for reporting.

Groups (each case knows the benchmark item it copies, or none for a negative):

- ``gsm8k``: the rephrased question as the human turn, ``The answer is N.`` as the answer;
- ``mmlu <subject> question only``: the rephrased question alone (for US-history passage
  items, the rephrase is of the final question only: the passage is not in it);
- ``mmlu <subject> + choices``: the rephrased question with the item's own choices, laid out
  as ``decontamination_devset.format_choices`` does (``A)``, ``(a)``, numbered, inline,
  shuffled);
- ``humaneval sig+docstring``: the rewritten program up to the end of its function's
  docstring (what a request for the task carries), a generic answer;
- ``humaneval whole program``: the whole rewritten program as the human turn;
- ``codealpaca non-rephrase`` (negatives): CodeAlpaca programs retrieved as a HumanEval item's
  nearest neighbour that the paper's judge found *not* to be rephrases, as the human turn, the
  same way as the whole-program positives; ``codealpaca rephrase``: the few it judged
  rephrases (reported, not a goal).

    .venv/bin/python benchmarks/decontamination_lmsys.py [--show 3]
"""

from __future__ import annotations

import argparse
import ast
import csv
import json
import re
import sys
from collections import Counter
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from decontamination_devset import Case, _rng, format_choices, split_of  # noqa: E402
from decontamination_texts import DATA, _jsonl, humaneval_rows  # noqa: E402

from bagel_core.components import Query  # noqa: E402

DECONTAM = DATA / "decontam"
SUBJECTS = ("abstract_algebra", "sociology", "high_school_us_history")
POSITIVE_GROUPS = (
    ("gsm8k",)
    + tuple(f"mmlu {s} {k}" for s in SUBJECTS for k in ("question only", "+ choices"))
    + ("humaneval sig+docstring", "humaneval whole program", "codealpaca rephrase")
)
NEGATIVE_GROUPS = ("codealpaca non-rephrase",)


def available() -> bool:
    return DECONTAM.is_dir()


def _case(group: str, benchmark: str | None, item: str, split_key: str, human: str, answer: str, n: int) -> Case:
    cid = f"lmsys|{group}|{benchmark}/{item}|{n}"
    return Case(
        group,
        benchmark,
        item if benchmark else None,
        split_of(split_key),
        Query(cid, "lmsys", human, (human,), (answer,)),
    )


def signature_and_docstring(program: str) -> str:
    """The program up to the end of the first function's docstring (its whole text when it has
    none or does not parse)."""
    try:
        tree = ast.parse(program)
    except SyntaxError:
        return program
    for node in ast.walk(tree):
        if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef)) and ast.get_docstring(node) is not None:
            end = node.body[0].end_lineno or 0
            return "\n".join(program.split("\n")[:end])
    return program


def build() -> list[Case]:
    cases: list[Case] = []

    def add(group, benchmark, item, human, answer, split_key=None):
        if human.strip():
            cases.append(
                _case(group, benchmark, item, split_key or f"{benchmark}/{item}", human.strip(), answer, len(cases))
            )

    gsm = _jsonl(DECONTAM / "rephrase_gsm8k.jsonl")
    for i, row in enumerate(gsm):
        m = re.match(r"\s*Question:\s*(.*?)\s*Answer:\s*(?:.*?####\s*(\S+))?\s*$", row["text"], re.DOTALL)
        question, answer = (m.group(1), m.group(2)) if m else (row["text"], None)
        add("gsm8k", "gsm8k", str(i), question, f"The answer is {answer}." if answer else "Let's work it out.")

    for subject in SUBJECTS:
        with open(DECONTAM / f"{subject}_test.csv", newline="", encoding="utf-8") as f:
            items = list(csv.reader(f))
        rephrases = _jsonl(DECONTAM / f"{subject}_test_rephrase_english_filtered_question.jsonl")
        for i, (row, rephrase) in enumerate(zip(items, rephrases)):
            choices, answer = row[1:5], row[5]
            text = rephrase["text"].strip()
            reply = f"The answer is {choices['ABCD'.index(answer)]}." if answer in "ABCD" else "I am not sure."
            add(f"mmlu {subject} question only", "mmlu", f"{subject}/{i}", text, reply)
            if text:
                add(
                    f"mmlu {subject} + choices",
                    "mmlu",
                    f"{subject}/{i}",
                    f"{text}\n{format_choices(choices, _rng(0, 'lmsys', subject, i))}",
                    reply,
                )

    tasks = [r["task_id"] for r in humaneval_rows()]
    for task, row in zip(tasks, _jsonl(DECONTAM / "humaneval_python.jsonl")):
        program = row["text"].strip()
        add(
            "humaneval sig+docstring",
            "humaneval",
            task,
            signature_and_docstring(program),
            "Here is the implementation.",
        )
        add("humaneval whole program", "humaneval", task, program, "This is a complete solution.")

    for task, row in zip(tasks, _jsonl(DECONTAM / "CodeAlpacaDB.jsonl")):
        for program, rephrase in zip(row["train"], row["results"]):
            if rephrase:
                add("codealpaca rephrase", "humaneval", task, program, "This is a complete solution.")
            else:
                add(
                    "codealpaca non-rephrase",
                    None,
                    task,
                    program,
                    "This is a complete solution.",
                    split_key=f"humaneval/{task}",
                )
    return cases


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--show", type=int, default=0, help="print this many cases per group")
    args = parser.parse_args()
    cases = build()
    counts = Counter((c.group, c.split) for c in cases)
    for group in POSITIVE_GROUPS + NEGATIVE_GROUPS:
        print(f"{group}: dev {counts[(group, 'dev')]}, held-out {counts[(group, 'held-out')]}")
        for c in [c for c in cases if c.group == group][: args.show]:
            print(
                json.dumps(
                    {"item": c.item, "split": c.split, "human": c.query.human_turns, "answers": c.query.answers}
                )[:600]
            )


if __name__ == "__main__":
    main()
