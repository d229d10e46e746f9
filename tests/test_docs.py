"""docs/plugins.md stays true: every hook is documented and every example runs."""

import re

import pytest
from engine_fixtures import REPO

from bagel_core import BenchmarkText, Component, DedupBatch, Query, hookspecs
from bagel_core.registry import KINDS, kind_of, validate_component

DOC = (REPO / "docs" / "plugins.md").read_text()
BLOCKS = re.findall(r"```python\n(.*?)```", DOC, re.S)


def test_every_hook_is_documented():
    hooks = [name for name in dir(hookspecs) if name.startswith("register_")]
    assert set(hooks) == {k.hook for k in KINDS} | {"register_commands"}
    for name in hooks:
        assert f"`{name}(" in DOC, f"{name} is not documented in docs/plugins.md"


def _components():
    namespace = {"__file__": str(REPO / "docs" / "example.py")}
    for block in BLOCKS:
        if "bagel_core.testing" in block:  # needs the third-party package installed
            continue
        exec(compile(block, "docs/plugins.md", "exec"), namespace)
    return {
        v.name: v for v in namespace.values() if isinstance(v, type) and issubclass(v, Component) and hasattr(v, "name")
    }


def test_examples_define_valid_components():
    components = _components()
    assert {
        "shakespeare",
        "modernised",
        "my-truthy",
        "playbill",
        "zephyr",
        "shakespeare-quiz",
        "quoted-line",
        "casefold",
        "echo",
        "secret-quiz",
    } <= set(components)
    assert components["secret-quiz"].redact_text and components["secret-quiz"].groups == ("current",)
    for cls in components.values():
        validate_component(kind_of(cls), cls)


def test_format_example_matches_its_chat_template():
    from bagel_core.testing import check_chat_template

    for name in ("playbill", "zephyr"):
        assert check_chat_template(_components()[name])


def test_decontaminator_example_finds_matches():
    quoted = _components()["quoted-line"]()
    quoted.index([BenchmarkText("gsm8k", "3", "What is 2 + 2?")])
    matches = list(
        quoted.search(
            [Query("a", "s", "Answer: what is 2 + 2? ", ("what is 2 + 2? ",)), Query("b", "s", "Hello", ("Hello",))]
        )
    )
    assert [(m.id, m.benchmark, m.benchmark_item, m.decontaminator) for m in matches] == [
        ("a", "gsm8k", "3", "quoted-line")
    ]


def test_the_complete_plugin_in_the_guide_is_the_tested_one():
    """docs/plugins.md shows the files of tests/thirdparty/bagel_shakespeare, byte for byte."""
    example = REPO / "tests" / "thirdparty" / "bagel_shakespeare"
    for path in ("bagel_shakespeare/__init__.py", "tests/test_shakespeare.py"):
        assert (example / path).read_text() in BLOCKS, f"docs/plugins.md does not show {path} as it is"
    assert f"```toml\n{(example / 'pyproject.toml').read_text()}```" in DOC
    for sample in ("shakespeare/lines.jsonl", "shakespeare-quiz/quiz.jsonl"):
        first = (example / "bagel_shakespeare" / "samples" / "tiny" / sample).read_text().splitlines()[0]
        assert f"# samples/tiny/{sample}\n{first}\n" in DOC


def test_testing_kit_example_checks_the_deduper_and_the_trainer(tmp_path):
    (block,) = [b for b in BLOCKS if "check_deduper(Casefold)" in b]
    namespace = {**_components(), "Casefold": _components()["casefold"], "Echo": _components()["echo"]}
    exec(compile(block, "docs/plugins.md", "exec"), namespace)
    namespace["test_casefold_keeps_the_first_copy"]()
    namespace["test_echo_through_bagel_train"](tmp_path)


def test_deduper_example_keeps_the_first_of_each_text():
    casefold = _components()["casefold"]()
    casefold.add(DedupBatch([0, 2], ["a", "b"], ["s", "s"], ["What is 2 + 2?", "Hello"]))
    casefold.add(DedupBatch([5], ["c"], ["t"], ["what is  2 + 2?"]))
    assert [(d.position, d.kept) for d in casefold.duplicates()] == [(5, 0)]


def test_every_builtin_component_is_documented():
    from bagel_core.registry import load_plugins

    registry = load_plugins(strict=False)
    sources = (REPO / "docs" / "sources.md").read_text()
    documented = set(re.findall(r"^\| `?([a-z0-9_.-]+)`? \|", sources, re.M))
    builtin = lambda kind: {
        n for n, info in registry.of(kind).items() if info.plugin.distribution == "bagel-sources-builtin"
    }
    assert builtin("source") - {"local"} <= documented, "add the missing sources to docs/sources.md"
    assert builtin("benchmark") <= documented, "add the missing benchmark sets to docs/sources.md"
    dpo = (REPO / "docs" / "dpo.md").read_text()
    for name, info in registry.of("dpo_builder").items():
        if info.plugin.distribution == "bagel-dpo-builtin":
            assert f"`{name}`" in dpo, f"{name} is not documented in docs/dpo.md"


def test_python_version_agrees_everywhere():
    """tomllib needs 3.11: every distribution, setup.sh and the README say the same."""
    import tomllib

    pyprojects = [REPO / "pyproject.toml", *sorted((REPO / "plugins").glob("*/pyproject.toml"))]
    assert {tomllib.loads(p.read_text())["project"]["requires-python"] for p in pyprojects} == {">=3.11"}
    assert "sys.version_info < (3, 11)" in (REPO / "scripts" / "setup.sh").read_text()
    assert "Python 3.11+" in (REPO / "README.md").read_text()


def test_secret_option_example_is_redacted_and_checked():
    from bagel_core.options import REDACTED, build, redact

    block = next(b for b in BLOCKS if "Secret()" in b)
    namespace: dict = {}
    exec(compile(block, "docs/plugins.md", "exec"), namespace)
    options = build("source 'x'", namespace["Options"], {"endpoint_auth": "s3cr3t", "keep_probability": 0.25})
    assert options.endpoint_auth == "s3cr3t"  # the component gets the value
    import dataclasses

    shown = redact(dataclasses.asdict(options), namespace["Options"])
    assert shown["endpoint_auth"] == REDACTED and shown["keep_probability"] == 0.25
    with pytest.raises(ValueError, match="keep_probability = nan is not allowed; expected a finite number"):
        build("source 'x'", namespace["Options"], {"keep_probability": float("nan")})


def test_architecture_names_every_module():
    doc = (REPO / "docs" / "architecture.md").read_text()
    modules = [p for p in (REPO / "bagel_core").rglob("*.py") if p.stem not in ("__init__", "__main__")]
    missing = [str(p.relative_to(REPO)) for p in modules if not re.search(rf"\b{p.stem}\b", doc)]
    assert not missing, f"docs/architecture.md does not mention {missing}"
    packages = [p.parent.name for p in (REPO / "bagel_core" / "builtin").glob("*/__init__.py")]
    assert all(f"builtin/{name}/" in doc for name in packages)


def test_the_dpo_builder_kind_has_one_spelling_in_help_and_docs():
    from bagel_core.testing import invoke_cli

    assert "DPO builders: a,b | all | none" in invoke_cli("run", "--help").output
    for page in [REPO / "README.md", *(REPO / "docs").glob("*.md")]:
        text = page.read_text()
        assert not re.search(r"(?i)dpo pair builder|pair-builder", text), page.name
