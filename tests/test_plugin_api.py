"""The plugin API's stability: its version, the changelog entry of the release, and a plugin
written against bagel-core 0.1 (tests/thirdparty/legacy_v0_1, kept as it was) that still loads,
runs and passes its own tests, warned where a call it makes is deprecated."""

import re
import sys
import tomllib
import warnings

import pytest
from engine_fixtures import REPO

import bagel_core

LEGACY = REPO / "tests" / "thirdparty" / "legacy_v0_1"


@pytest.fixture(scope="module")
def legacy():
    """The 0.1 plugin's own test module (it imports the plugin by its top-level name)."""
    sys.path.insert(0, str(LEGACY))
    try:
        import test_sonnets

        yield test_sonnets
    finally:
        sys.path.remove(str(LEGACY))
        sys.modules.pop("test_sonnets", None)
        sys.modules.pop("bagel_sonnets", None)


def test_versions_agree():
    major, minor = bagel_core.PLUGIN_API_VERSION
    assert isinstance(major, int) and isinstance(minor, int) and major >= 2
    pyproject = tomllib.loads((REPO / "pyproject.toml").read_text())
    assert pyproject["tool"]["setuptools"]["dynamic"]["version"] == {"attr": "bagel_core.__version__"}
    for plugin in ("sources", "formats", "dpo"):
        project = tomllib.loads((REPO / "plugins" / f"bagel-{plugin}-builtin" / "pyproject.toml").read_text())[
            "project"
        ]
        assert project["version"] == bagel_core.__version__, plugin
        assert f"bagel-core>={bagel_core.__version__.rsplit('.', 1)[0]}" in project["dependencies"], plugin


def test_changelog_has_the_release():
    changelog = (REPO / "CHANGELOG.md").read_text()
    heading = re.search(rf"^## {re.escape(bagel_core.__version__)} .*$", changelog, re.M)
    assert heading, f"CHANGELOG.md has no '## {bagel_core.__version__} ...' section"
    major, minor = bagel_core.PLUGIN_API_VERSION
    assert f"plugin API {major}.{minor}" in heading.group(0)
    assert "### Deprecated" in changelog and "### Changed" in changelog


def test_a_0_1_plugin_passes_its_conformance_check(legacy):
    with warnings.catch_warnings():
        warnings.simplefilter("error", DeprecationWarning)  # nothing it does here is deprecated
        legacy.test_conformance()
        legacy.test_rows()


def test_a_0_1_load_sample_with_an_options_instance_warns_and_works(legacy):
    with pytest.warns(
        DeprecationWarning, match=r"load_sample\(options=Sonnets\.Options\(\.\.\.\)\) is deprecated"
    ) as caught:
        legacy.test_rows_with_options()
    assert [w.filename for w in caught] == [legacy.__file__]  # the warning points at the plugin's call


def test_an_options_instance_is_checked_like_a_table(legacy):
    sonnets = sys.modules["bagel_sonnets"].Sonnets
    with pytest.warns(DeprecationWarning), pytest.raises(bagel_core.ConfigError, match="min_words"):
        bagel_core.testing.load_sample(sonnets, sonnets.Options(min_words="five"))
    with pytest.raises(TypeError, match="options must be a dict"):
        bagel_core.testing.load_sample(sonnets, ["min_words", 5])


def test_option_defaults_of_0_1_warns_and_works(legacy):
    sonnets = sys.modules["bagel_sonnets"].Sonnets
    with pytest.warns(DeprecationWarning, match=r"option_defaults\(\) is deprecated"):
        assert sonnets.option_defaults() == {"instruction": "Rewrite this line in modern English:", "min_words": 0}


def test_a_0_1_plugin_runs_in_a_pipeline(legacy, tmp_path):
    with warnings.catch_warnings():
        warnings.simplefilter("error", DeprecationWarning)
        legacy.test_in_a_run(tmp_path)


def test_the_trainer_modules_of_0_1_still_import_with_a_warning():
    from bagel_core import train

    with pytest.warns(
        DeprecationWarning, match=r"train_common\.TrlTrainer is deprecated.*import it from bagel_core\.train"
    ):
        from bagel_core.builtin.train_common import TrlTrainer
    assert TrlTrainer is train.TrlTrainer
    with pytest.warns(DeprecationWarning, match=r"train_sft\.SFT is deprecated.*from bagel_core\.builtin\.train\.sft"):
        from bagel_core.builtin.train_sft import SFT
    assert SFT.name == "sft"
    with pytest.raises(ImportError):  # a name that never was there is not forwarded
        from bagel_core.builtin.train_data import no_such_name  # noqa: F401
