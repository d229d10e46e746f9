"""Plugin loading: good, broken, duplicate, blocked, unknown hooks, strict mode, list-plugins."""

import json
import os
import subprocess
import sys
import warnings

import pytest
from engine_fixtures import install_fake_dist

from bagel_core.registry import PluginError, load_plugins
from bagel_core.testing import check_plugin, registry_with

GOOD = """
from bagel_core import Source, hookimpl, as_conversation
class Echo(Source):
    name = "echo"
    description = "echoes"
    priority = 1
    dataset_ids = ("me/echo",)
    def convert(self, row, ctx):
        return as_conversation("echo", row["q"], row["q"])
@hookimpl
def register_sources(register):
    register(Echo)
"""
BROKEN = "import a_module_that_does_not_exist\n"
TWIN = GOOD.replace('description = "echoes"', 'description = "another echo"')
UNKNOWN_HOOK = """
from bagel_core import hookimpl
@hookimpl
def register_sourcez(register):
    pass
"""


def _bagel(args, site, **env):
    env = dict(os.environ, PYTHONPATH=os.pathsep.join([str(site), os.environ.get("PYTHONPATH", "")]), **env)
    return subprocess.run(
        [sys.executable, "-m", "bagel_core", *args], capture_output=True, text=True, env=env, timeout=120
    )


@pytest.fixture
def site(tmp_path):
    site = tmp_path / "site"
    install_fake_dist(site, "bagel-echo", "1.2.0", {"echo": "echo_plugin"}, {"echo_plugin": GOOD})
    install_fake_dist(site, "bagel-broken", "0.1.0", {"broken": "broken_plugin"}, {"broken_plugin": BROKEN})
    return site


def test_good_and_broken_plugins_are_listed(site):
    result = _bagel(["list-plugins"], site)
    assert result.returncode == 0, result.stderr
    rows = {line.split()[0]: line.split() for line in result.stdout.splitlines() if line and not line.startswith(" ")}
    assert rows["plugin"] == ["plugin", "version", "kind", "components", "status"]
    assert rows["echo"] == ["echo", "1.2.0", "sources", "echo", "ok"]
    assert rows["broken"] == ["broken", "0.1.0", "-", "-", "error"]
    assert rows["sources-builtin"][2] == "sources" and rows["sources-builtin"][-1] == "ok"
    # The error is one line that names the plugin's file and the line that failed.
    broken = str(site / "broken_plugin.py")
    assert (
        f"broken: error: ModuleNotFoundError: No module named 'a_module_that_does_not_exist' ({broken}:1)"
        in result.stdout
    )
    assert "warning: plugin broken (bagel-broken)" in result.stderr
    # No line is a run of every component: long lists are cut, --verbose gives one per line.
    assert max(map(len, result.stdout.splitlines())) < 200
    verbose = _bagel(["list-plugins", "--verbose"], site).stdout.splitlines()
    assert any(line.split() == ["echo", "1.2.0", "sources", "echo", "[me/echo]", "ok"] for line in verbose)
    assert any(line.split()[:2] == ["slimorca", "[Open-Orca/SlimOrca,"] for line in verbose)


def test_list_plugins_json(site):
    result = _bagel(["list-plugins", "--json"], site)
    data = {p["name"]: p for p in json.loads(result.stdout)}
    echo = data["echo"]
    assert echo["distribution"] == "bagel-echo" and echo["version"] == "1.2.0" and echo["error"] is None
    # The licence fields the dataset card uses are listed too (unset here: "unknown").
    assert echo["components"]["source"] == [
        {
            "name": "echo",
            "description": "echoes",
            "priority": 1,
            "max_items": None,
            "stratified": False,
            "cap_per_stratum": False,
            "dataset_ids": ["me/echo"],
            "license": "unknown",
            "terms": None,
            "citation": None,
            "content_warning": None,
        }
    ]
    assert data["broken"]["error"].startswith("ModuleNotFoundError: No module named 'a_module_that_does_not_exist' (")
    assert "Traceback" in data["broken"]["traceback"] and data["echo"]["clashes"] == []


def test_strict_mode_fails_on_broken_plugin(site):
    for result in (
        _bagel(["--strict", "list-plugins"], site),
        _bagel(["list-plugins"], site, BAGEL_STRICT_PLUGINS="1"),
    ):
        assert result.returncode != 0
        assert "plugin 'broken' from bagel-broken" in result.stderr


def test_blocked_plugin(site):
    result = _bagel(["list-plugins"], site, BAGEL_DISABLE_PLUGINS="broken,echo")
    assert result.returncode == 0 and "error" not in result.stdout
    assert any(line.split() == ["echo", "1.2.0", "-", "-", "blocked"] for line in result.stdout.splitlines())


def test_name_clash_is_fatal_only_for_a_run_that_selects_it(tmp_path, site):
    install_fake_dist(site, "bagel-twin", "2.0", {"twin": "twin_plugin"}, {"twin_plugin": TWIN})
    clash = "source 'echo' is registered twice: by bagel-echo (plugin echo) and by bagel-twin (plugin twin)"
    for sources in ("echo", "all"):
        result = _bagel(["run", "--sample", "--sources", sources, "--dpo", "none", "--out", str(tmp_path / "o")], site)
        assert result.returncode != 0 and clash in result.stderr
    # A run that does not select 'echo' works.
    ok = _bagel(
        [
            "run",
            "--sample",
            "--sources",
            "capybara",
            "--dpo",
            "none",
            "--formats",
            "alpaca",
            "--decontaminate",
            "none",
            "-q",
            "--out",
            str(tmp_path / "ok"),
        ],
        site,
    )
    assert ok.returncode == 0, ok.stderr
    assert json.loads((tmp_path / "ok" / "manifest.json").read_text())["sources"]["capybara"]["rows_written"]["sft"] > 0
    # Listed under both plugins involved, each keeping its other components and no error.
    listed = _bagel(["list-plugins"], site)
    assert listed.returncode == 0
    lines = listed.stdout.splitlines()
    for plugin, version in (("echo", "1.2.0"), ("twin", "2.0")):
        assert any(line.split() == [plugin, version, "sources", "echo", "(clash)", "clash"] for line in lines)
        assert f"{plugin}: clash: {clash}; uninstall one or block it with BAGEL_DISABLE_PLUGINS" in lines
    data = {p["name"]: p for p in json.loads(_bagel(["list-plugins", "--json"], site).stdout)}
    for name in ("echo", "twin"):
        assert data[name]["error"] is None and data[name]["clashes"][0].startswith(clash)
    assert data["twin"]["components"]["source"][0]["description"] == "another echo"
    # Strict mode refuses any clash; blocking one side resolves it.
    assert _bagel(["--strict", "list-plugins"], site).returncode != 0
    blocked = _bagel(["--strict", "list-plugins"], site, BAGEL_DISABLE_PLUGINS="twin,broken")
    assert blocked.returncode == 0 and "clash" not in blocked.stdout, blocked.stderr


def test_hook_error_names_the_file_and_line(tmp_path, monkeypatch):
    import types

    path = tmp_path / "raising_plugin.py"
    path.write_text(
        "from bagel_core import hookimpl\n@hookimpl\ndef register_formats(register):\n    raise RuntimeError('boom')\n"
    )
    module = types.ModuleType("raising_plugin")
    exec(compile(path.read_text(), str(path), "exec"), module.__dict__)
    registry = load_plugins(strict=False, extra=[("raising", module)])
    assert f"raising (raising): register_formats failed: RuntimeError: boom ({path}:4)" in registry.errors
    # A component that breaks the contract: the message points at its class.
    path.write_text(
        "from bagel_core import Source, hookimpl\n\nclass Nameless(Source):\n    description = 'x'\n\n@hookimpl\ndef register_sources(register):\n    register(Nameless)\n"
    )
    module = types.ModuleType("raising_plugin")
    module.__file__ = str(path)
    monkeypatch.setitem(sys.modules, "raising_plugin", module)  # as an imported plugin is
    exec(compile(path.read_text(), str(path), "exec"), module.__dict__)
    registry = load_plugins(strict=False, extra=[("raising", module)])
    assert registry.errors[-1].startswith("raising (raising): register_sources failed: Nameless.name must match")
    assert registry.errors[-1].endswith(f"got None ({path}:3)")


def test_unknown_hook_is_reported(site):
    install_fake_dist(site, "bagel-typo", "0.1", {"typo": "typo_plugin"}, {"typo_plugin": UNKNOWN_HOOK})
    result = _bagel(["list-plugins"], site)
    assert "unknown hook(s) register_sourcez" in result.stdout
    assert _bagel(["--strict", "list-plugins"], site).returncode != 0


def test_in_process_extra_plugins_and_strict_errors():
    import types

    module = types.ModuleType("bad_component")
    exec(
        "from bagel_core import Source, hookimpl\nclass Nameless(Source):\n    description='x'\n@hookimpl\ndef register_sources(register):\n    register(Nameless)\n",
        module.__dict__,
    )
    with pytest.raises(PluginError, match="Nameless.name must match"):
        load_plugins(strict=True, extra=[("bad", module)])
    registry = load_plugins(strict=False, extra=[("bad", module)])
    assert any("Nameless.name" in e for e in registry.errors)


def test_light_commands_do_not_import_heavy_libraries(site):
    code = (
        "import sys\nfrom click.testing import CliRunner\nfrom bagel_core.cli import cli, main\n"
        "r = CliRunner().invoke(cli, ['list-plugins']); assert r.exit_code == 0, r.output\n"
        "r = CliRunner().invoke(cli, ['--help']); assert r.exit_code == 0, r.output\n"
        "r = CliRunner().invoke(cli, ['train', '--help']); assert r.exit_code == 0, r.output\n"
        "print(sorted(m for m in ('torch', 'transformers', 'faiss', 'trl', 'sentence_transformers', 'deepspeed') if m in sys.modules))\n"
    )
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120)
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == "[]"


def test_builtin_plugins_pass_conformance():
    import bagel_dpo_builtin.plugin
    import bagel_formats_builtin.plugin
    import bagel_sources_builtin.plugin

    for plugin in (bagel_sources_builtin.plugin, bagel_formats_builtin.plugin, bagel_dpo_builtin.plugin):
        assert check_plugin(plugin)


def test_registry_with_an_installed_plugin_registers_it_once():
    import bagel_formats_builtin.plugin

    # Installed (entry point 'formats-builtin') and passed again, by module and by name.
    for extra in (("mine", bagel_formats_builtin.plugin), ("formats-builtin", bagel_formats_builtin.plugin)):
        registry = registry_with(extra, strict=True)
        assert registry.get("format", "vicuna").plugin.name == extra[0]
        assert not registry.clashes and [p.name for p in registry.plugins].count("formats-builtin") == (
            extra[0] == "formats-builtin"
        )


def test_check_chat_template_wants_the_prompt_cut_on_a_token_boundary():
    """A render() ending in a space: the template's generation prompt stops before it (the
    trainers' columns put it in the answer); one that writes it still passes, with a warning."""
    from dataclasses import dataclass

    from bagel_core import PromptFormat
    from bagel_core.testing import TEMPLATE_CASES, check_chat_template
    from bagel_formats_builtin.vicuna import Vicuna

    def spoken(generation_prompt: str) -> type[PromptFormat]:
        class Spoken(PromptFormat):
            name = "spoken"
            description = "Q:/A: lines"

            @dataclass
            class Options(PromptFormat.Options):
                pass

            def render(self, messages):
                return "".join(f"{m['role']}: {m['content']}\n" for m in messages) + "A: "

            def chat_template(self):
                return (
                    "{% for m in messages %}{{ m['role'] }}: {{ m['content'] }}\n{% endfor %}"
                    "{% if add_generation_prompt %}" + generation_prompt + "{% endif %}"
                )

        return Spoken

    with warnings.catch_warnings():
        warnings.simplefilter("error")
        assert check_chat_template(Vicuna) == check_chat_template(spoken("A:")) == len(TEMPLATE_CASES)
    with pytest.warns(DeprecationWarning, match="end the generation prompt before them"):
        check_chat_template(spoken("A: "))
    with pytest.raises(AssertionError, match="without its trailing spaces"):
        check_chat_template(spoken("A:\n"))


def test_check_chat_template_compares_the_template_with_render():
    from dataclasses import dataclass

    from bagel_core import PromptFormat
    from bagel_core.testing import TEMPLATE_CASES, check_chat_template
    from bagel_formats_builtin.llama2 import Llama2

    assert check_chat_template(Llama2) == len(TEMPLATE_CASES)

    class Sloppy(PromptFormat):
        name = "sloppy"
        description = "its template forgets the system prompt"

        @dataclass
        class Options(PromptFormat.Options):
            pass

        def render(self, messages):
            return "".join(f"<{m['role']}>{m['content']}" for m in messages) + "<assistant>"

        def chat_template(self):
            return "{% for m in messages if m['role'] != 'system' %}<{{ m['role'] }}>{{ m['content'] }}{% endfor %}<assistant>"

    with pytest.raises(
        AssertionError,
        match=r"sloppy: chat_template\(\) gives '<user>2\+2\?<assistant>' but render\(\) gives '<system>Be brief.<user>2\+2\?<assistant>'",
    ):
        check_chat_template(Sloppy)
    with pytest.raises(AssertionError, match="sloppy"):
        check_plugin(
            type(
                "P",
                (),
                {
                    "register_formats": staticmethod(
                        __import__("bagel_core").hookimpl(lambda register: register(Sloppy))
                    )
                },
            )()
        )


def test_load_sample_validates_options_like_a_recipe():
    from bagel_core.config import ConfigError
    from bagel_core.testing import load_sample
    from bagel_dpo_builtin.ultrafeedback import UltraFeedback

    with pytest.raises(ConfigError, match=r"(?i)dpo builder 'ultrafeedback'.*min_score"):
        load_sample(UltraFeedback, {"min_score": 1})
    with pytest.raises(ConfigError, match="ultrafeedback.*min_chosen_score.*'high'"):
        load_sample(UltraFeedback, {"min_chosen_score": "high"})
    strict, _ = load_sample(UltraFeedback, {"min_chosen_score": 10.0})
    loose, _ = load_sample(UltraFeedback, {"min_chosen_score": 0.0})
    assert len(strict) < len(loose)


def test_check_decontaminator_on_the_builtin_ngram_and_a_broken_one():
    from bagel_core import Decontaminator, Match
    from bagel_core.builtin.decontaminate.ngram import NgramDecontaminator
    from bagel_core.testing import check_decontaminator

    check_decontaminator(NgramDecontaminator)

    class Careless(Decontaminator):
        name = "careless"
        description = "matches everything and forgets which benchmark item"

        def index(self, benchmarks):
            self.first = benchmarks[0]

        def search(self, queries):
            for q in queries:
                yield Match(q.id, q.source, self.name, self.first.benchmark, "0", 1.0, q.text, self.first.text)

    with pytest.raises(
        AssertionError,
        match=r"careless: expected only the copy of the benchmark text to match, got \['copy', 'other'\]",
    ):
        check_decontaminator(Careless)
