"""MBPP (full config) test split, task ids 11-510: the task, the task with its tests and, as an
option, the reference program."""

from __future__ import annotations

from dataclasses import dataclass

from bagel_core import BenchmarkText, LoadContext

from .base import HubBenchmark, text


def mbpp_views(benchmark: str, item: str, task: str, code: object, tests: object) -> list[BenchmarkText]:
    """``prompt`` (the task in words), ``prompt+tests`` (the task and its asserts, as the MBPP
    prompt shows them: a training item that copies the test item carries both) and, when ``code``
    is given, ``solution`` (the program, role ``code``: compared by the code decontaminator)."""
    views = [BenchmarkText(benchmark, item, task, "prompt")]
    asserts = [t for t in tests if isinstance(t, str) and t.strip()] if isinstance(tests, (list, tuple)) else []
    if asserts:
        views.append(BenchmarkText(benchmark, item, task + "\n" + "\n".join(asserts), "prompt+tests"))
    if isinstance(code, str) and code.strip():
        # Upstream programs have Windows line ends and tab indents; the code matcher parses them.
        views.append(BenchmarkText(benchmark, item, code.replace("\r\n", "\n"), "solution", "code"))
    return views


class Mbpp(HubBenchmark):
    name = "mbpp"
    description = "MBPP full/test (task ids 11-510): task; task+tests; reference program (code view)"
    dataset_ids = ("google-research-datasets/mbpp",)
    groups = ("current",)
    config = "full"
    splits = ("test",)

    @dataclass
    class Options:
        #: Also index the reference program as a ``code`` view. Off: MBPP's programs are a few
        #: lines of common idioms, and the code decontaminator matched 225 of MBPP's own 464
        #: train programs against them (docs/decontamination.md).
        code: bool = False

    options: Options

    def texts_of_row(self, index, row, split, ctx: LoadContext):
        item = str(row.get("task_id") or index)
        if not text(self.name, item, row["text"], ctx):
            return []
        return mbpp_views(
            self.name, item, row["text"], row.get("code") if self.options.code else None, row.get("test_list")
        )
