"""apps: first decoded solution, HumanEval overlap removed, empty solutions counted."""

import json

from sources_testkit import load, real_humaneval, turns, write_jsonl

from bagel_core import uid
from bagel_sources_builtin.apps import Apps


def test_sample_conversion_and_counts():
    records, counts = load(Apps)
    first = records[0]
    instruction = (
        "Provide a python solution to the following:\nGiven two integers a and b on one line, print their sum.\n\n"
        "-----Input-----\nTwo integers.\n\n-----Output-----\nTheir sum."
    )
    assert turns(first) == [("human", instruction), ("gpt", "a, b = map(int, input().split())\nprint(a + b)\n")]
    assert first["id"] == uid(instruction)
    assert first["source"] == "apps"
    assert len(records) == 3
    # "" and "[]" solutions, a null and a numeric question, a truncated line; the sum-of-squares
    # answer is a HumanEval solution.
    assert counts.rejected == {"no solution": 2, "missing field 'question'": 1, "wrong type": 1, "invalid JSON": 1}
    assert counts.filtered == {"humaneval overlap": 1}


def test_real_humaneval_solution_is_filtered(tmp_path):
    root = real_humaneval(tmp_path)
    solution = "def has_close_elements(numbers, threshold):\n" + (
        "    for idx, elem in enumerate(numbers):\n        for idx2, elem2 in enumerate(numbers):\n            if idx != idx2:\n"
        "                distance = abs(elem - elem2)\n                if distance < threshold:\n                    return True\n\n"
        "    return False\n"
    )
    write_jsonl(
        root / "codeparrot/apps/train.jsonl",
        [
            {
                "problem_id": 1,
                "question": "Are two numbers closer than a threshold?",
                "solutions": json.dumps([solution]),
            },
            {"problem_id": 2, "question": "Print hello.", "solutions": json.dumps(["print('hello')\n"])},
        ],
    )
    # The upstream repository's loading script, which `datasets` refuses to run, is not used.
    (root / "codeparrot/apps/apps.py").write_text("raise SystemExit('not run')\n")
    records, counts = load(Apps, root)
    assert [r["conversations"][1]["value"] for r in records] == ["print('hello')\n"]
    assert counts.filtered == {"humaneval overlap": 1}
