"""Recipes, flags over recipes, data access errors, and the run command's CLI."""

import json
from pathlib import Path

import pytest
from click.testing import CliRunner

from bagel_core.cli import cli
from bagel_core.config import ConfigError, load_recipe
from bagel_core.data import DataAccess, DatasetUnavailable


def test_recipe_tables_and_unknown_keys(tmp_path):
    recipe = tmp_path / "r.toml"
    recipe.write_text(
        '[run]\nsources = ["a", "b"]\nseed = 7\nout = "o"\n[source.a]\npriority = 3\n[format.vicuna]\nsystem_prompt_probability = 1.0\n'
    )
    values = load_recipe(recipe)
    assert values["sources"] == ["a", "b"] and values["seed"] == 7 and values["out"] == (tmp_path / "o").resolve()
    assert values["options"] == {
        "source": {"a": {"priority": 3}},
        "format": {"vicuna": {"system_prompt_probability": 1.0}},
    }
    recipe.write_text("[run]\nsauces = 1\n")
    with pytest.raises(ConfigError, match=r"unknown key\(s\) in \[run\]: \['sauces'\]"):
        load_recipe(recipe)
    recipe.write_text("[sourcez.a]\nx = 1\n")
    with pytest.raises(ConfigError, match="unknown table"):
        load_recipe(recipe)
    recipe.write_text("[run\n")
    with pytest.raises(ConfigError, match="not valid TOML"):
        load_recipe(recipe)


def test_cli_flags_override_recipe(tmp_path, toy_root, monkeypatch, toy_registry):
    import bagel_core.registry

    monkeypatch.setattr(bagel_core.registry, "_CURRENT", toy_registry)
    recipe = tmp_path / "r.toml"
    recipe.write_text(
        '[run]\nsources = "toy-high"\ndpo = "none"\nformats = "vicuna"\ndecontaminate = "none"\nseed = 1\n[format.vicuna]\nsystem_prompt_probability = 0.0\n'
    )
    out = tmp_path / "out"
    result = CliRunner().invoke(
        cli,
        ["run", "--recipe", str(recipe), "--data-root", str(toy_root), "--seed", "9", "--out", str(out), "--verbose"],
    )
    assert result.exit_code == 0, result.output
    manifest = json.loads((out / "manifest.json").read_text())
    assert manifest["config"]["seed"] == 9 and list(manifest["sources"]) == ["toy-high"]
    assert "TOTAL" in result.output and "toy-high" in result.output
    bad = CliRunner().invoke(
        cli, ["run", "--recipe", str(recipe), "--data-root", str(toy_root), "--formats", "nope", "--out", str(out)]
    )
    assert bad.exit_code != 0 and "unknown format 'nope'; available: " in bad.output and "vicuna" in bad.output


def test_run_decontaminates_with_ngram_embedding_and_code_by_default(tmp_path, monkeypatch):
    """The flag, a recipe without the key and ``RunConfig()`` all select the three; ``none`` none."""
    import bagel_core.pipeline
    from bagel_core.config import RunConfig
    from bagel_core.pipeline import resolve
    from bagel_core.registry import load_plugins

    registry = load_plugins()
    names = lambda config: [d.cls.name for d in resolve(config, registry).decontaminators]
    default = ["ngram", "embedding", "code"]
    assert names(RunConfig()) == default
    recipe = tmp_path / "r.toml"
    recipe.write_text('[run]\nsources = "capybara"\n')
    assert names(RunConfig(**load_recipe(recipe))) == default
    seen = []

    def fake_run(config, registry, **_):
        seen.append(config)
        raise ValueError("stop here")

    monkeypatch.setattr(bagel_core.pipeline, "run", fake_run)
    for flags in ([], ["--decontaminate", "none"]):
        result = CliRunner().invoke(cli, ["run", "--recipe", str(recipe), *flags, "-q"])
        assert "stop here" in result.output, result.output
    assert [names(config) for config in seen] == [default, []]


def test_data_access_errors_name_the_dataset(tmp_path):
    with pytest.raises(DatasetUnavailable, match=r"'owner/name' is not available.*--data-root"):
        DataAccess(tmp_path).load_dataset("owner/name")  # no folder, and the Hub is offline in tests
    with pytest.raises(DatasetUnavailable, match="ships no sample"):
        DataAccess(tmp_path, sample=True).file("owner/name", "x.json")
    (tmp_path / "owner" / "name").mkdir(parents=True)
    with pytest.raises(DatasetUnavailable, match="x.json does not exist"):
        DataAccess(tmp_path).file("owner/name", "x.json")


def test_a_copy_with_a_loading_script_is_present_but_not_loadable(tmp_path):
    """datasets >= 4 raises RuntimeError("Dataset scripts are no longer supported") for a
    repository or local copy holding a loading script (allenai/ropes still ships ropes.py):
    one line naming the dataset and what to do, not a plugin failure (issue 28)."""
    import shutil

    from bagel_core.data import DatasetNotLoadable
    from bagel_sources_builtin import SAMPLES

    folder = tmp_path / "allenai" / "ropes"
    shutil.copytree(SAMPLES / "allenai" / "ropes", folder)
    (folder / "ropes.py").write_text("import datasets\n")
    with pytest.raises(DatasetNotLoadable) as caught:
        DataAccess(tmp_path).load_dataset("allenai/ropes")
    message = str(caught.value)
    assert "\n" not in message
    assert message.startswith(
        "dataset 'allenai/ropes' is present but not loadable (RuntimeError: Dataset scripts are no longer supported"
    )
    assert "delete the .py script" in message and str(folder) in message
    assert isinstance(caught.value, DatasetUnavailable)  # handled wherever "not available" is
    (folder / "ropes.py").unlink()  # what the message says to do
    assert len(DataAccess(tmp_path).load_dataset("allenai/ropes")) > 0


def test_renamed_datasets_are_found_under_either_folder(tmp_path):
    """The Hub moved WizardLM/WizardLM_evol_instruct_70k to WizardLMTeam/ and openai_humaneval
    to openai/openai_humaneval: a data root holding either folder serves both ids (issue 28)."""
    old = tmp_path / "WizardLM" / "WizardLM_evol_instruct_70k"
    old.mkdir(parents=True)
    access = DataAccess(tmp_path)
    assert access.local_dir("WizardLMTeam/WizardLM_evol_instruct_70k") == old
    assert access.local_dir("WizardLM/WizardLM_evol_instruct_70k") == old
    current = tmp_path / "openai" / "openai_humaneval"
    current.mkdir(parents=True)
    assert access.local_dir("openai_humaneval") == current == access.local_dir("openai/openai_humaneval")
    (tmp_path / "openai_humaneval").mkdir()
    assert access.local_dir("openai_humaneval") == tmp_path / "openai_humaneval"  # its own name first
    assert access.local_dir("owner/other") is None


def test_iter_rows_reads_a_dataset_in_batches_with_the_same_rows():
    import datasets

    from bagel_core.context import LoadContext

    ds = datasets.Dataset.from_list(
        [
            {"q": f"question {i}", "turns": [{"from": "human", "value": str(i)}], "n": None if i % 3 else i}
            for i in range(2500)
        ]
    )
    ctx = LoadContext("t", 0, DataAccess(None))
    assert list(ctx.iter_rows(ds, batch_size=1000)) == list(ds)
    assert list(ctx.iter_rows(iter([{"a": 1}]))) == [{"a": 1}]


def test_each_test_has_its_own_hugging_face_cache(own_hf_cache, tmp_path):
    """The root conftest gives every test fresh HF caches: what load_dataset caches lands there."""
    import datasets
    from engine_fixtures import write_jsonl

    assert own_hf_cache not in tmp_path.parents and own_hf_cache != tmp_path
    write_jsonl(tmp_path / "rows.jsonl", [{"q": "a"}, {"q": "b"}])
    rows = datasets.load_dataset("json", data_files=str(tmp_path / "rows.jsonl"), split="train")
    assert rows["q"] == ["a", "b"]
    cached = [Path(f["filename"]) for f in rows.cache_files]
    assert cached and all(own_hf_cache in p.parents for p in cached)
