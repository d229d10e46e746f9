"""HumanEval test: the prompt a model completes, its docstring's prose, and the whole program.

Views: ``prompt`` (signature and docstring, as the reference indexed it), ``docstring`` (the
task in words, examples cut: what a training item that rewords the task asks) and ``solution``
(prompt plus canonical solution, role ``code``: compared by the code decontaminator with the
programs in training items, identifiers and comments normalised away).
"""

from __future__ import annotations

import ast

from bagel_core import BenchmarkText, LoadContext
from bagel_core.builtin.decontaminate.code_match import docstring_prose as prose_of

from ..humaneval_filter import HUMANEVAL_ID
from .base import HubBenchmark, text


def docstring_prose(prompt: str, entry_point: str | None) -> str:
    """The prose of the docstring of ``entry_point`` in ``prompt`` (the last function's when
    there is no entry point), examples cut, whitespace folded; "" when the prompt does not parse."""
    try:
        tree = ast.parse(prompt + "\n    pass\n")
    except SyntaxError:
        return ""
    functions = [n for n in ast.walk(tree) if isinstance(n, (ast.FunctionDef, ast.AsyncFunctionDef))]
    chosen = [f for f in functions if f.name == entry_point] or functions[-1:]
    doc = ast.get_docstring(chosen[0]) if chosen else None
    if not doc:
        return ""
    # The same cut as the docstring views of training items (bagel_core's code matcher).
    return prose_of(doc)


def humaneval_views(
    benchmark: str, item: str, prompt: str, solution: object, entry_point: str | None
) -> list[BenchmarkText]:
    views = [BenchmarkText(benchmark, item, prompt, "prompt")]
    prose = docstring_prose(prompt, entry_point)
    if len(prose.split()) >= 5:
        views.append(BenchmarkText(benchmark, item, prose, "docstring"))
    if isinstance(solution, str) and solution.strip():
        views.append(BenchmarkText(benchmark, item, prompt + solution, "solution", "code"))
    return views


class HumanEval(HubBenchmark):
    name = "humaneval"
    description = "HumanEval test: prompt; docstring prose; prompt + canonical solution (code view)"
    # The same upstream files (and sample) as the HumanEval substring filter of the code sources.
    dataset_ids = (HUMANEVAL_ID,)
    groups = ("legacy",)
    config = "openai_humaneval"
    splits = ("test",)

    def texts_of_row(self, index, row, split, ctx: LoadContext):
        item = str(row.get("task_id") or index)
        if not text(self.name, item, row["prompt"], ctx):
            return []
        return humaneval_views(self.name, item, row["prompt"], row.get("canonical_solution"), row.get("entry_point"))
