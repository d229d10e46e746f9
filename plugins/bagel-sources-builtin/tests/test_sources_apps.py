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


def test_hub_download_is_pinned_to_a_commit(tmp_path, monkeypatch):
    """issue 28: an open conversion would delete train.jsonl from the default branch, so the Hub
    file is read at a pinned commit (``revision``, "main" for the latest); a local copy is read
    as it is."""
    import huggingface_hub

    from bagel_sources_builtin.apps import REVISION

    root = real_humaneval(tmp_path / "root")  # HumanEval local, apps only on the "Hub"
    served = write_jsonl(
        tmp_path / "hub" / "train.jsonl",
        [{"question": "Print 1.", "solutions": json.dumps(["print(1)\n"]), "problem_id": 0}],
    )
    calls = []

    def download(repo_id, filename, **kwargs):
        calls.append((repo_id, filename, kwargs.get("repo_type"), kwargs.get("revision")))
        return str(served)

    monkeypatch.setattr(huggingface_hub, "hf_hub_download", download)
    records, _ = load(Apps, root)
    assert [turns(r)[1][1] for r in records] == ["print(1)\n"]
    assert calls == [("codeparrot/apps", "train.jsonl", "dataset", REVISION)] and len(REVISION) == 40
    load(Apps, root, revision="main")
    assert calls[-1][-1] == "main"
