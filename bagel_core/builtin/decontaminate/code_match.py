"""Code normalised for comparison: what stays when a program is renamed, re-commented and
reformatted.

A program is parsed with :mod:`ast`; docstrings, comments, type annotations and layout go
(``ast.unparse`` rewrites it in one canonical layout); rewrites that do not change what the
program does are undone into one canonical form (``x += y`` as ``x = x + y``; ``a > b`` as
``b < a``; ``if not c: A else: B`` as ``if c: B else: A``). Its tokens are then read with
every bound name (function, argument, variable) as ``V``, string literals as ``S``; keywords,
builtins, attribute and method names, numbers and operators stay. The program is the set of
hashes of its :data:`SHINGLE`-token windows. Text that does not parse as Python gets no
shingles.
"""

from __future__ import annotations

import ast
import builtins
import io
import keyword
import re
import textwrap
import tokenize
from collections.abc import Iterator

#: Tokens per shingle.
SHINGLE = 5
_FENCE = re.compile(r"```[ \t]*([A-Za-z0-9_+-]*)[^\n]*\n(.*?)(?:```|\Z)", re.DOTALL)
_KEEP = set(dir(builtins)) | set(keyword.kwlist) | {"self", "cls"}
#: Cheap test before parsing: text without these holds no Python program worth comparing.
_CODE_HINT = re.compile(r"^\s*(def|class|return|for|while|if|import|from)\b", re.MULTILINE)
#: Where the examples of a docstring start (doctest prompts, "Example:", ``f(x) == y`` lines).
EXAMPLES = re.compile(
    r"^\s*(>>>|for example|example|examples|e\.g\.)|^\s*\w+\(.*\)\s*(==|➞|=>|->)", re.IGNORECASE | re.MULTILINE
)


def code_blocks(text: str) -> list[str]:
    """The Python programs in a text: its fenced code blocks (those not tagged with another
    language), else the text itself from its first line that starts a definition or import."""
    blocks = [body for lang, body in _FENCE.findall(text) if lang.lower() in ("", "python", "py", "python3")]
    if blocks or "```" in text:
        return blocks
    match = re.search(r"^(def|class|import|from|@)\b", text, re.MULTILINE)
    return [text[match.start() :]] if match else []


def docstring_prose(doc: str) -> str:
    """A docstring's prose: the text before its examples, whitespace folded."""
    cut = EXAMPLES.search(doc)
    return " ".join((doc[: cut.start()] if cut else doc).split())


def _parse(source: str) -> ast.AST | None:
    """``source`` parsed, also when it ends after a function's docstring (a HumanEval prompt)."""
    source = textwrap.dedent(source)
    for text in (source, source + "\n    pass\n"):
        try:
            return ast.parse(text)
        except (SyntaxError, ValueError, RecursionError):
            continue
    return None


def function_docstrings(text: str) -> list[str]:
    """The prose of the docstrings of the functions in the programs of ``text`` (fenced blocks
    or bare code, as :func:`code_blocks`), examples cut."""
    if "```" not in text and not _CODE_HINT.search(text):
        return []
    out = []
    for block in code_blocks(text):
        tree = _parse(block)
        for node in ast.walk(tree) if tree is not None else ():
            if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef)):
                doc = ast.get_docstring(node)
                if doc and docstring_prose(doc):
                    out.append(docstring_prose(doc))
    return list(dict.fromkeys(out))


class _Canonical(ast.NodeTransformer):
    """Docstrings and annotations dropped, equivalent forms made one."""

    def _strip_docstring(self, node):
        body = node.body
        if (
            body
            and isinstance(body[0], ast.Expr)
            and isinstance(getattr(body[0], "value", None), ast.Constant)
            and isinstance(body[0].value.value, str)
        ):
            node.body = body[1:] or [ast.Pass()]
        return node

    def visit_Module(self, node):
        self.generic_visit(node)
        return self._strip_docstring(node)

    def visit_FunctionDef(self, node):
        node.returns = None
        self.generic_visit(node)
        return self._strip_docstring(node)

    visit_AsyncFunctionDef = visit_FunctionDef

    def visit_ClassDef(self, node):
        self.generic_visit(node)
        return self._strip_docstring(node)

    def visit_arg(self, node):
        node.annotation = None
        return node

    def visit_AnnAssign(self, node):
        self.generic_visit(node)
        if node.value is None:
            return None
        return ast.Assign([node.target], node.value, lineno=node.lineno)

    def visit_AugAssign(self, node):
        self.generic_visit(node)
        if isinstance(node.target, ast.Name):
            return ast.Assign(
                [node.target], ast.BinOp(ast.Name(node.target.id, ast.Load()), node.op, node.value), lineno=node.lineno
            )
        return node

    def visit_Compare(self, node):
        self.generic_visit(node)
        flips = {ast.Gt: ast.Lt, ast.GtE: ast.LtE}
        if len(node.ops) == 1 and type(node.ops[0]) in flips:
            return ast.Compare(node.comparators[0], [flips[type(node.ops[0])]()], [node.left])
        return node

    def visit_If(self, node):
        self.generic_visit(node)
        if node.orelse and isinstance(node.test, ast.UnaryOp) and isinstance(node.test.op, ast.Not):
            node.test = node.test.operand
            node.body, node.orelse = node.orelse, node.body
        return node


def normalised_tokens(source: str) -> list[str]:
    """The canonical token stream of a Python program; [] when it does not parse."""
    try:
        tree = ast.parse(textwrap.dedent(source))
        canonical = ast.unparse(ast.fix_missing_locations(_Canonical().visit(tree)))
    except (SyntaxError, ValueError, RecursionError, TypeError):
        return []
    out: list[str] = []
    previous = ""
    try:
        for tok in tokenize.generate_tokens(io.StringIO(canonical).readline):
            if tok.type == tokenize.NAME:
                out.append(tok.string if tok.string in _KEEP or previous == "." else "V")
            elif tok.type == tokenize.STRING:
                out.append("S")
            elif tok.type in (tokenize.OP, tokenize.NUMBER):
                out.append(tok.string)
            elif tok.type == tokenize.INDENT:
                out.append("{")
            elif tok.type == tokenize.DEDENT:
                out.append("}")
            previous = tok.string
    except (tokenize.TokenError, IndentationError, SyntaxError):
        return []
    return out


#: Literals too common to tell one task from another (and every integer from -10 to 10).
_COMMON_LITERALS = frozenset({"0.0", "1.0", "''", "' '", "'\\n'", "','"})
#: Literals in a docstring's example lines (``>>> f([1, 2], 'ab')``, ``f(3) == 6``).
_EXAMPLE_LITERAL = re.compile(r"'[^'\n]{0,40}'|\"[^\"\n]{0,40}\"|(?<![\w.])-?\d+(?:\.\d+)?(?![\w.])")


def _literal(text: str) -> str | None:
    """One spelling per value (``1.50`` and ``1.5``, ``"a"`` and ``'a'``), common ones dropped."""
    try:
        value = ast.literal_eval(text)
    except (ValueError, SyntaxError, MemoryError, RecursionError):
        return None
    if isinstance(value, str) and (len(value) > 40 or "\n" in value.strip()):
        return None  # a docstring or a message, not a constant of the task
    if isinstance(value, int) and -10 <= value <= 10:
        return None  # small integers are in every program's examples
    out = repr(value)
    return None if out in _COMMON_LITERALS else out


def task_evidence(source: str) -> tuple[frozenset, frozenset]:
    """What a program does, beyond its vocabulary: the annotated signatures of its functions
    (``(arity, annotations, return annotation)``, only those with an annotation) and its
    distinctive constants (literals of its code and of its docstrings' example lines, common
    ones such as 0, 1, "" and True left out)."""
    tree = _parse(source)
    if tree is None:
        return frozenset(), frozenset()
    signatures = set()
    literals: set[str] = set()
    for node in ast.walk(tree):
        if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef)):
            args = node.args.posonlyargs + node.args.args
            shape = tuple(ast.unparse(a.annotation) if a.annotation else "" for a in args)
            returns = ast.unparse(node.returns) if node.returns else ""
            if any(shape) or returns:
                signatures.add((len(args), shape, returns))
            doc = ast.get_docstring(node) or ""
            example = EXAMPLES.search(doc)
            if example:
                literals.update(filter(None, map(_literal, _EXAMPLE_LITERAL.findall(doc[example.start() :]))))
        elif isinstance(node, ast.Constant) and not isinstance(node.value, (bool, type(None), bytes)):
            literal = _literal(repr(node.value))
            if literal:
                literals.add(literal)
    return frozenset(signatures), frozenset(literals)


def programs_evidence(text: str) -> tuple[frozenset, frozenset]:
    """:func:`task_evidence` of every program found in ``text``."""
    signatures: set = set()
    literals: set = set()
    for block in code_blocks(text):
        sig, lit = task_evidence(block)
        signatures |= sig
        literals |= lit
    return frozenset(signatures), frozenset(literals)


def shingles(tokens: list[str], k: int = SHINGLE) -> set[int]:
    return {hash(tuple(tokens[i : i + k])) for i in range(len(tokens) - k + 1)}


def program_shingles(source: str) -> set[int]:
    return shingles(normalised_tokens(source))


def text_shingles(texts: Iterator[str] | list[str]) -> set[int]:
    """The shingles of every program found in ``texts`` (fenced blocks or bare code)."""
    out: set[int] = set()
    for text in texts:
        if "```" not in text and not _CODE_HINT.search(text):
            continue
        for block in code_blocks(text):
            out |= program_shingles(block)
    return out
