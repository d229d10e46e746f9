"""The development set of the decontaminators: rephrases of real test items built by our own
rules, and real clean texts, as training items (human turns and answers).

Everything is derived deterministically (``--seed``) from the real files in
``../shared/data/benchmarks`` and ``../shared/data/sources`` and from the Python standard
library's own source; nothing is stored in the repository. Each benchmark item (and each clean
text) falls in the ``dev`` or the ``held-out`` split by a hash of its id, so thresholds are
chosen on one half and reported on the other.

Groups (each case knows the benchmark item it copies, or none for a negative):

- ``gsm8k rephrased``: the question paraphrased (phrase table, clauses reordered, names and
  numbers changed), a generic answer; ``gsm8k solution in answer``: a vague request, the test
  solution lightly edited as the answer;
- ``mmlu rephrased``, ``mmlu rephrased + choices`` (choices reformatted: ``A)``, ``(a)``,
  numbered, inline, shuffled), ``mmlu passage-based`` (high-school US / European / world
  history: passage re-flowed with a few words edited, question paraphrased, choices
  reformatted);
- ``humaneval rewritten``: the task reworded as a request, the canonical program rewritten with
  ``ast`` (identifiers renamed, docstring dropped, type hints dropped, ``x += y`` expanded,
  ``if``/``else`` swapped under ``not``, comparisons flipped, operands of ``+`` and ``*``
  swapped, ``return expr`` through a temporary, ``range(n)`` as ``range(0, n)``; the code
  matcher undoes the first five kinds, not the last three) in a code block;
  ``humaneval code only``: the rewritten program with a generic question;
- ``verbatim``, ``light edit`` (one word deleted or changed, re-cased, an instruction line
  before): every indexed benchmark;
- negatives: ``clean text`` (Spider questions, EmoBank sentences, MMLU auxiliary-train science
  questions, BoolQ passages and questions, PIQA goals, OpenBookQA questions: none of them is an
  indexed benchmark) and ``near-neighbour code`` (standard-library functions whose normalised
  code is nearest to a HumanEval solution: real code that solves another problem).

    .venv/bin/python benchmarks/decontamination_devset.py [--seed 0] [--show 3]
"""

from __future__ import annotations

import argparse
import ast
import hashlib
import json
import random
import re
import sys
import sysconfig
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from decontamination_texts import (  # noqa: E402
    DATA,
    LETTERS,
    _jsonl,
    benchmark_items,
    clean_texts,
    gsm8k_rows,
    humaneval_rows,
    mmlu_rows,
)

from bagel_core.components import Query  # noqa: E402
from bagel_sources_builtin.benchmarks.gsm8k import solution_prose  # noqa: E402
from bagel_sources_builtin.benchmarks.humaneval import docstring_prose  # noqa: E402
from bagel_sources_builtin.benchmarks.mmlu import split_passage  # noqa: E402

POSITIVE_GROUPS = (
    "gsm8k rephrased",
    "gsm8k solution in answer",
    "mmlu rephrased",
    "mmlu rephrased + choices",
    "mmlu passage-based",
    "humaneval rewritten",
    "humaneval code only",
    "verbatim",
    "light edit",
)
NEGATIVE_GROUPS = ("clean text", "near-neighbour code")
PASSAGE_SUBJECTS = ("high_school_us_history", "high_school_european_history", "high_school_world_history")


@dataclass(frozen=True)
class Case:
    group: str
    #: The benchmark and item the case copies; None for a negative.
    benchmark: str | None
    item: str | None
    split: str
    query: Query
    detail: str = ""


def split_of(key: str) -> str:
    """``dev`` or ``held-out``, by a hash of the item's id (stable across runs and machines)."""
    return "dev" if hashlib.sha1(key.encode()).digest()[0] % 2 == 0 else "held-out"


def _rng(seed: int, *key: object) -> random.Random:
    return random.Random(hashlib.sha1(repr((seed, *key)).encode()).hexdigest())


# --- prose paraphrase rules -----------------------------------------------------------------

#: (pattern, replacements): whole-word, case-preserving for the first letter.
PHRASES: list[tuple[str, tuple[str, ...]]] = [
    (r"which of the following", ("which one of these", "which of these options", "what among the following")),
    (r"how many", ("what number of", "how many in total")),
    (r"how much", ("what amount", "how much in total")),
    (r"what is", ("what's", "tell me what is")),
    (r"calculate", ("work out", "compute")),
    (r"determine", ("figure out", "find")),
    (r"buys", ("purchases", "gets")),
    (r"bought", ("purchased", "got")),
    (r"each", ("every", "per")),
    (r"total", ("overall", "combined")),
    (r"wants to", ("would like to", "plans to")),
    (r"decides to", ("chooses to", "makes up her mind to")),
    (r"costs", ("is priced at", "sells for")),
    (r"has", ("owns", "holds")),
    (r"have", ("own", "hold")),
    (r"makes", ("produces", "earns")),
    (r"needs", ("requires",)),
    (r"uses", ("employs", "consumes")),
    (r"also", ("as well",)),
    (r"then", ("after that", "next")),
    (r"if", ("in case", "supposing")),
    (r"because", ("since", "as")),
    (r"most likely", ("most probably",)),
    (r"best describes", ("best characterizes", "most accurately describes")),
    (r"the following", ("these", "the given")),
    (r"statement", ("claim", "assertion")),
    (r"primarily", ("mainly", "chiefly")),
    (r"important", ("significant", "crucial")),
    (r"shows", ("demonstrates", "indicates")),
    (r"result", ("outcome", "consequence")),
    (r"given", ("provided",)),
    (r"return", ("give back", "output")),
    (r"returns", ("gives back", "outputs")),
    (r"list", ("sequence", "array")),
    (r"string", ("text", "str")),
    (r"number", ("value", "integer")),
    (r"write a function", ("implement a function", "create a routine")),
    (r"check if", ("test whether", "decide if")),
]
_PHRASE_RES = [(re.compile(rf"\b{p}\b", re.IGNORECASE), r) for p, r in PHRASES]
NAMES = (
    "Ava",
    "Liam",
    "Maya",
    "Noah",
    "Zara",
    "Omar",
    "Lena",
    "Ravi",
    "Chloe",
    "Diego",
    "Hana",
    "Ivan",
    "Priya",
    "Tom",
    "Yusuf",
    "Nina",
)
FRAMES = (
    "{}",
    "Solve this problem: {}",
    "Can you help me with this? {}",
    "{}\nPlease explain your reasoning.",
    "Here is a question from my homework.\n{}",
    "Answer the following.\n\n{}",
    "{} Think it through carefully.",
)


def _keep_case(old: str, new: str) -> str:
    return new[0].upper() + new[1:] if old[:1].isupper() else new


def phrase_swap(text: str, rng: random.Random, rate: float = 0.8) -> str:
    for pattern, choices in _PHRASE_RES:
        text = pattern.sub(
            lambda m: _keep_case(m.group(0), rng.choice(choices)) if rng.random() < rate else m.group(0), text
        )
    return text


def sentences(text: str) -> list[str]:
    return [s for s in re.split(r"(?<=[.!?])\s+(?=[A-Z0-9\"'(])", text.strip()) if s]


def reorder_clauses(text: str, rng: random.Random) -> str:
    """The question sentence first, or two context sentences swapped."""
    parts = sentences(text)
    if len(parts) < 3:
        return text
    if rng.random() < 0.5 and parts[-1].endswith("?"):
        return " ".join([parts[-1], "Here is the situation:", *parts[:-1]])
    i = rng.randrange(len(parts) - 2)
    parts[i], parts[i + 1] = parts[i + 1], parts[i]
    return " ".join(parts)


def change_names_numbers(text: str, rng: random.Random) -> str:
    """Capitalised names (not sentence-initial words) and about half of the numbers changed."""
    first_words = {s.split()[0] for s in sentences(text) if s.split()}
    names = sorted({w for w in re.findall(r"\b[A-Z][a-z]{2,}\b", text) if w not in first_words})
    for name in names[:2]:
        text = re.sub(rf"\b{name}\b", rng.choice([n for n in NAMES if n != name]), text)
    return re.sub(
        r"\b\d+\b", lambda m: str(int(m.group(0)) + rng.randint(1, 9)) if rng.random() < 0.5 else m.group(0), text
    )


def paraphrase(text: str, rng: random.Random, names_numbers: bool = False) -> str:
    text = phrase_swap(text, rng)
    if rng.random() < 0.6:
        text = reorder_clauses(text, rng)
    if names_numbers:
        text = change_names_numbers(text, rng)
    return rng.choice(FRAMES).format(text)


def edit_words(text: str, rng: random.Random, delete: bool) -> str:
    words = text.split(" ")
    if len(words) < 4:
        return text
    pos = rng.randrange(len(words))
    if delete:
        del words[pos]
    else:
        words[pos] = rng.choice(("the", "a", "new", "old", "big", "small", "often", "house", "number"))
    return " ".join(words)


def format_choices(choices: list[str], rng: random.Random) -> str:
    style = rng.randrange(5)
    if style == 4:
        choices = choices[:]
        rng.shuffle(choices)
    if style == 0:
        return "\n".join(f"{LETTERS[i]}) {c}" for i, c in enumerate(choices))
    if style == 1:
        return "\n".join(f"({LETTERS[i].lower()}) {c}" for i, c in enumerate(choices))
    if style == 2:
        return "\n".join(f"{i + 1}. {c}" for i, c in enumerate(choices))
    if style == 3:
        return "Options: " + "; ".join(choices)
    return "\n".join(f"{LETTERS[i]}. {c}" for i, c in enumerate(choices))


# --- code rewriting rules -------------------------------------------------------------------

NEW_NAMES = (
    "values",
    "items",
    "seq",
    "data",
    "acc",
    "res",
    "out",
    "tmp",
    "cur",
    "idx",
    "j",
    "k",
    "n1",
    "n2",
    "total",
    "count",
    "buf",
    "parts",
    "word",
    "ch",
    "left",
    "right",
    "best",
    "flag",
    "x1",
    "y1",
    "num",
    "s1",
    "pos",
    "val",
)


class _Rewrite(ast.NodeTransformer):
    """Renames every function, argument and local name; drops docstrings and annotations;
    expands ``x += y``; swaps ``if``/``else`` under ``not``; flips ``<``/``>`` comparisons."""

    def __init__(self, tree: ast.AST, rng: random.Random) -> None:
        bound = set()
        for node in ast.walk(tree):
            if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef)):
                bound.add(node.name)
                bound.update(a.arg for a in node.args.args + node.args.kwonlyargs + node.args.posonlyargs)
            elif isinstance(node, ast.Name) and isinstance(node.ctx, ast.Store):
                bound.add(node.id)
            elif isinstance(node, ast.arg):
                bound.add(node.arg)
        pool = list(NEW_NAMES)
        rng.shuffle(pool)
        self.names = {
            name: (pool.pop() if pool else f"v{i}") + ("_fn" if i == 0 else "") for i, name in enumerate(sorted(bound))
        }
        self.rng = rng

    def visit_FunctionDef(self, node):
        node.name = self.names.get(node.name, node.name)
        node.returns = None
        body = node.body
        if (
            body
            and isinstance(body[0], ast.Expr)
            and isinstance(getattr(body[0], "value", None), ast.Constant)
            and isinstance(body[0].value.value, str)
        ):
            body = body[1:] or [ast.Pass()]
        node.body = body
        self.generic_visit(node)
        return node

    def visit_arg(self, node):
        node.arg = self.names.get(node.arg, node.arg)
        node.annotation = None
        return node

    def visit_Name(self, node):
        node.id = self.names.get(node.id, node.id)
        return node

    def visit_AugAssign(self, node):
        self.generic_visit(node)
        if isinstance(node.target, ast.Name) and self.rng.random() < 0.7:
            load = ast.Name(node.target.id, ast.Load())
            return ast.Assign([node.target], ast.BinOp(load, node.op, node.value), lineno=node.lineno)
        return node

    def visit_If(self, node):
        self.generic_visit(node)
        if node.orelse and self.rng.random() < 0.7:
            node.test = ast.UnaryOp(ast.Not(), node.test)
            node.body, node.orelse = node.orelse, node.body
        return node

    def visit_Compare(self, node):
        self.generic_visit(node)
        flips = {
            ast.Lt: ast.Gt,
            ast.Gt: ast.Lt,
            ast.LtE: ast.GtE,
            ast.GtE: ast.LtE,
            ast.Eq: ast.Eq,
            ast.NotEq: ast.NotEq,
        }
        if len(node.ops) == 1 and type(node.ops[0]) in flips and self.rng.random() < 0.7:
            return ast.Compare(node.comparators[0], [flips[type(node.ops[0])]()], [node.left])
        return node

    def visit_BinOp(self, node):
        # Commutative operands swapped (the code matcher does not undo this one).
        self.generic_visit(node)
        if isinstance(node.op, (ast.Add, ast.Mult)) and self.rng.random() < 0.5:
            node.left, node.right = node.right, node.left
        return node

    def visit_Return(self, node):
        # ``return expr`` through a temporary variable (not undone by the code matcher either).
        self.generic_visit(node)
        if node.value is not None and not isinstance(node.value, (ast.Name, ast.Constant)) and self.rng.random() < 0.5:
            name = self.rng.choice(("answer", "result_", "ret"))
            return [
                ast.Assign([ast.Name(name, ast.Store())], node.value, lineno=node.lineno),
                ast.Return(ast.Name(name, ast.Load())),
            ]
        return node

    def visit_Call(self, node):
        # ``range(n)`` as ``range(0, n)``.
        self.generic_visit(node)
        if (
            isinstance(node.func, ast.Name)
            and node.func.id == "range"
            and len(node.args) == 1
            and self.rng.random() < 0.7
        ):
            node.args = [ast.Constant(0), node.args[0]]
        return node


def rewrite_program(source: str, rng: random.Random) -> str | None:
    try:
        tree = ast.parse(source)
    except SyntaxError:
        return None
    tree = ast.fix_missing_locations(_Rewrite(tree, rng).visit(tree))
    return ast.unparse(tree)


# --- negatives ------------------------------------------------------------------------------

STDLIB_MODULES = (
    "string",
    "textwrap",
    "statistics",
    "heapq",
    "bisect",
    "fractions",
    "difflib",
    "shlex",
    "fnmatch",
    "calendar",
    "colorsys",
    "base64",
    "html/__init__",
    "glob",
    "posixpath",
    "ntpath",
    "random",
    "functools",
    "_pydecimal",
    "ipaddress",
    "csv",
    "json/encoder",
    "json/decoder",
    "quopri",
    "uu",
    "gettext",
    "locale",
    "tokenize",
    "inspect",
    "copy",
    "pprint",
    "reprlib",
    "graphlib",
    "datetime",
    "_strptime",
    "email/utils",
    "urllib/parse",
    "mimetypes",
    "wave",
    "operator",
    "sre_parse",
    "re/_parser",
    "keyword",
    "dis",
    "ast",
)


def stdlib_functions() -> list[tuple[str, str, str]]:
    """(qualified name, first docstring paragraph, code without docstring) of short documented
    functions of the standard library."""
    root = Path(sysconfig.get_paths()["stdlib"])
    out = []
    for module in STDLIB_MODULES:
        path = root / f"{module}.py"
        if not path.exists():
            continue
        try:
            tree = ast.parse(path.read_text(encoding="utf-8"))
        except (SyntaxError, UnicodeDecodeError):
            continue
        for node in ast.walk(tree):
            if not isinstance(node, ast.FunctionDef) or node.name.startswith("__"):
                continue
            doc = ast.get_docstring(node)
            lines = (node.end_lineno or 0) - node.lineno
            if not doc or len(doc.split()) < 5 or not 3 <= lines <= 30:
                continue
            node.body = node.body[1:] or [ast.Pass()]
            out.append((f"{module}.{node.name}", " ".join(doc.split("\n\n")[0].split()), ast.unparse(node)))
    return out


def near_neighbour_code(limit: int, seed: int) -> list[tuple[str, Query]]:
    """Standard-library functions nearest to a HumanEval solution by normalised token shingles."""
    from bagel_core.builtin.decontaminate.code_match import program_shingles

    solutions = [program_shingles(r["prompt"] + r["canonical_solution"]) for r in humaneval_rows()]
    scored = []
    for name, doc, code in stdlib_functions():
        mine = program_shingles(code)
        if not mine:
            continue
        best = max(len(mine & s) / len(s) for s in solutions if s)
        scored.append((-best, name, doc, code))
    scored.sort()
    out = []
    for _, name, doc, code in scored[:limit]:
        rng = _rng(seed, "stdlib", name)
        human = rng.choice(
            ("Write a Python function: {}", "Implement this in Python. {}", "{}\nPlease write the code.")
        ).format(doc)
        out.append((name, Query(f"code:{name}", "dev", human, (human,), (f"```python\n{code}\n```",))))
    return out


def extra_clean_texts() -> list[str]:
    """Real texts of sets bagel does not index: BoolQ passages with questions, PIQA goals,
    OpenBookQA questions with choices."""
    b = DATA / "benchmarks"
    texts = [r["query"].replace("Passage: ", "", 1) for r in _jsonl(b / "boolq" / "boolq_dev.llm-foundry.jsonl")]
    texts += [r["goal"] for r in _jsonl(b / "piqa" / "valid.jsonl") if len(r["goal"].split()) >= 4]
    for r in _jsonl(b / "openbookqa" / "test.jsonl"):
        texts.append(
            r["question"]["stem"] + "\n" + "\n".join(f"{c['label']}. {c['text']}" for c in r["question"]["choices"])
        )
    return texts


# --- the cases ------------------------------------------------------------------------------


@dataclass
class DevSet:
    cases: list[Case] = field(default_factory=list)

    def add(
        self,
        group: str,
        benchmark: str | None,
        item: str | None,
        human: list[str],
        answers: list[str],
        detail: str = "",
    ) -> None:
        key = f"{benchmark}/{item}" if benchmark else f"clean/{human[0][:200]}|{answers[:1]}"
        cid = f"{group}|{key}|{len(self.cases)}"
        self.cases.append(
            Case(
                group, benchmark, item, split_of(key), Query(cid, "dev", human[0], tuple(human), tuple(answers)), detail
            )
        )


GENERIC_ANSWERS = (
    "Let's work through it step by step.",
    "Sure, here is how to solve it.",
    "Good question; the key is to set up the quantities first.",
)


def build(
    seed: int = 0, per_group: int = 300, clean: int = 3000, code_negatives: int = 300, light_per_benchmark: int = 60
) -> list[Case]:
    dev = DevSet()
    gsm = gsm8k_rows()
    for i in _rng(seed, "gsm8k").sample(range(len(gsm)), min(per_group, len(gsm))):
        rng = _rng(seed, "gsm8k", i)
        q = paraphrase(gsm[i]["question"], rng, names_numbers=True)
        dev.add("gsm8k rephrased", "gsm8k", str(i), [q], [rng.choice(GENERIC_ANSWERS)])
    for i in _rng(seed, "gsm8k-answer").sample(range(len(gsm)), min(per_group // 2, len(gsm))):
        rng = _rng(seed, "gsm8k-answer", i)
        solution = edit_words(phrase_swap(solution_prose(gsm[i]["answer"]), rng, 0.3), rng, delete=rng.random() < 0.5)
        dev.add(
            "gsm8k solution in answer",
            "gsm8k",
            str(i),
            ["Solve the word problem from my worksheet and show the steps."],
            [solution],
        )

    rows = mmlu_rows()
    plain = [r for r in rows if not split_passage(r["question"])[0]]
    for group in ("mmlu rephrased", "mmlu rephrased + choices"):
        for r in _rng(seed, group).sample(plain, per_group):
            rng = _rng(seed, group, r["subject"], r["index"])
            q = paraphrase(r["question"], rng)
            if group.endswith("choices"):
                q = f"{q}\n{format_choices(r['choices'], rng)}"
            answer = f"The answer is {r['choices'][r['answer']]}."
            dev.add(group, "mmlu", f"{r['subject']}/{r['index']}", [q], [answer])
    passages = [r for r in rows if r["subject"] in PASSAGE_SUBJECTS and split_passage(r["question"])[0]]
    for r in _rng(seed, "passage").sample(passages, min(per_group, len(passages))):
        rng = _rng(seed, "passage", r["subject"], r["index"])
        passage, final = split_passage(r["question"])
        body = edit_words(" ".join(passage.split()), rng, delete=True)
        q = phrase_swap(final, rng)
        layout = rng.randrange(3)
        if layout == 0:
            text = f"Read the passage below.\n\n{body}\n\n{q}\n{format_choices(r['choices'], rng)}"
        elif layout == 1:
            text = f"{q}\n{format_choices(r['choices'], rng)}\n\nUse this source:\n{body}"
        else:
            text = f"{body}\n{q}\n{format_choices(r['choices'], rng)}"
        dev.add(
            "mmlu passage-based",
            "mmlu",
            f"{r['subject']}/{r['index']}",
            [text],
            [f"The answer is {r['choices'][r['answer']]}."],
        )

    for r in humaneval_rows():
        rng = _rng(seed, "humaneval", r["task_id"])
        program = rewrite_program(r["prompt"] + r["canonical_solution"], rng)
        if program is None:
            continue
        prose = docstring_prose(r["prompt"], r["entry_point"]) or "solve the task below"
        ask = rng.choice(
            (
                "Write a Python function that does the following. {}",
                "Implement this in Python: {}",
                "{}\nCan you code it?",
            )
        ).format(phrase_swap(prose, rng, 0.5))
        dev.add(
            "humaneval rewritten", "humaneval", r["task_id"], [ask], [f"Here is one way:\n```python\n{program}\n```"]
        )
        other = rewrite_program(r["prompt"] + r["canonical_solution"], _rng(seed, "humaneval-code", r["task_id"]))
        dev.add(
            "humaneval code only",
            "humaneval",
            r["task_id"],
            [f"What does this function do?\n```python\n{other}\n```"],
            ["It processes its input and returns the result."],
        )

    items = benchmark_items()
    for bench, texts in sorted(items.items()):
        first_view = [t for t in texts if t.role == "prompt"]
        seen: set[str] = set()
        pool = [t for t in first_view if not (t.item in seen or seen.add(t.item))]
        for b in _rng(seed, "light", bench).sample(pool, min(light_per_benchmark, len(pool))):
            rng = _rng(seed, "light", bench, b.item)
            dev.add("verbatim", bench, b.item, [b.text], [rng.choice(GENERIC_ANSWERS)], b.view)
            kind = rng.randrange(4)
            edited = (
                edit_words(b.text, rng, delete=True),
                edit_words(b.text, rng, delete=False),
                " ".join(b.text.lower().split()),
                "Answer the following question.\n\n" + b.text,
            )[kind]
            dev.add(
                "light edit",
                bench,
                b.item,
                [edited],
                [rng.choice(GENERIC_ANSWERS)],
                ("1 word deleted", "1 word changed", "re-cased", "instruction line")[kind],
            )

    for text in clean_texts(clean, seed) + _rng(seed, "extra").sample(extra_clean_texts(), min(clean // 2, 3000)):
        dev.add("clean text", None, None, [text], ["I think the answer depends on the details."])
    for name, q in near_neighbour_code(code_negatives, seed):
        dev.add("near-neighbour code", None, None, list(q.human_turns), list(q.answers), name)
    return dev.cases


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--show", type=int, default=2, help="examples printed per group")
    args = parser.parse_args()
    cases = build(args.seed)
    counts = Counter((c.group, c.split) for c in cases)
    for group in POSITIVE_GROUPS + NEGATIVE_GROUPS:
        print(f"## {group}: dev {counts[group, 'dev']}, held-out {counts[group, 'held-out']}")
        for c in [c for c in cases if c.group == group][: args.show]:
            print(
                json.dumps(
                    {"item": c.item, "human": c.query.human_turns, "answers": c.query.answers}, ensure_ascii=False
                )[:800]
            )


if __name__ == "__main__":
    main()
