"""``bagel push-to-hub``: the exact repository, files and commit it makes, at the HfApi boundary
(the Hub is unreachable in tests)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from huggingface_hub import CommitOperationAdd

from bagel_core.config import RunConfig
from bagel_core.pipeline import run
from bagel_core.push import PushError, push
from bagel_core.registry import load_plugins


class RecordingApi:
    """Stands in for ``huggingface_hub.HfApi``: records each call and what each file holds."""

    def __init__(self, token=None):
        self.token = token
        self.calls: list[tuple[str, dict]] = []

    def create_repo(self, repo_id, **kwargs):
        self.calls.append(("create_repo", {"repo_id": repo_id, **kwargs}))

    def create_commit(self, repo_id, operations, commit_message, **kwargs):
        assert all(isinstance(op, CommitOperationAdd) for op in operations)
        files = {}
        for op in operations:
            data = op.path_or_fileobj
            files[op.path_in_repo] = data if isinstance(data, bytes) else Path(data).read_bytes()
        self.calls.append(
            ("create_commit", {"repo_id": repo_id, "files": files, "commit_message": commit_message, **kwargs})
        )
        return type("CommitInfo", (), {"commit_url": f"https://huggingface.co/datasets/{repo_id}/commit/abc"})()


@pytest.fixture(scope="module")
def out(tmp_path_factory) -> Path:
    folder = tmp_path_factory.mktemp("push") / "out"
    run(
        RunConfig(out=folder, sources="mmlu,capybara", dpo="none", formats="vicuna", decontaminate="none", sample=True),
        load_plugins(),
    )
    return folder


def test_push_makes_one_commit_with_the_outputs_and_a_hub_card(out):
    api = RecordingApi()
    push(out, "me/bagel-mix", private=True, api=api)
    (name, repo), (commit_name, commit) = api.calls
    assert (name, repo) == (
        "create_repo",
        {"repo_id": "me/bagel-mix", "repo_type": "dataset", "private": True, "exist_ok": True},
    )
    assert (
        commit_name == "create_commit"
        and commit["repo_id"] == "me/bagel-mix"
        and commit["repo_type"] == "dataset"
        and commit["revision"] is None
    )
    files = commit["files"]
    # dpo.parquet and contamination.parquet have no rows: no config points to them, not uploaded.
    # mixture.png is the card's chart (the run draws it with matplotlib).
    assert list(files) == ["sft.parquet", "conversations.parquet", "manifest.json", "mixture.png", "README.md"]
    assert "![Items per source](mixture.png)" in files["README.md"].decode()
    assert files["sft.parquet"] == (out / "sft.parquet").read_bytes()
    assert json.loads(files["manifest.json"]) == json.loads((out / "manifest.json").read_text())
    card = files["README.md"].decode()
    assert (
        'load_dataset(\'me/bagel-mix\', "sft", split="train")' in card
        and str(out.resolve()) not in card.split("## Reproduce")[0]
    )
    assert "config_name: sft" in card and "config_name: dpo" not in card
    manifest = json.loads((out / "manifest.json").read_text())
    assert (
        commit["commit_message"]
        == f"bagel {manifest['bagel_version']}: {manifest['totals']['sft_rows']} sft rows, 0 dpo rows"
    )
    assert (out / "README.md").read_text() != card  # the local card is left as it was


def test_push_refuses_what_is_not_an_output(tmp_path, out):
    with pytest.raises(PushError, match="not a finished bagel output"):
        push(tmp_path, "me/x", api=RecordingApi())
    api = RecordingApi()
    with pytest.raises(PushError, match="owner/name"):
        push(out, "bagel-mix", api=api)
    assert api.calls == []


def test_push_command(out, monkeypatch):
    import huggingface_hub
    from click.testing import CliRunner

    from bagel_core.cli import cli

    made = []
    monkeypatch.setattr(huggingface_hub, "HfApi", lambda token=None: made.append(RecordingApi(token)) or made[-1])
    result = CliRunner().invoke(
        cli, ["push-to-hub", str(out), "me/bagel-mix", "--token", "hf_test", "--revision", "v1", "-m", "first"]
    )
    assert result.exit_code == 0, result.output
    (api,) = made
    assert api.token == "hf_test"
    commit = api.calls[1][1]
    assert (commit["revision"], commit["commit_message"]) == ("v1", "first")
    assert (
        "pushed sft.parquet, conversations.parquet, manifest.json, mixture.png, README.md to https://huggingface.co/datasets/me/bagel-mix/commit/abc"
        in result.output
    )


def test_push_includes_the_report_only_when_it_describes_this_output(out, tmp_path):
    import shutil

    from bagel_core.push import files_to_push
    from bagel_core.report import write_report

    folder = tmp_path / "out"
    shutil.copytree(out, folder)
    write_report(folder)
    assert files_to_push(folder) == [
        "sft.parquet",
        "conversations.parquet",
        "manifest.json",
        "report.html",
        "mixture.png",
        "README.md",
    ]
    stale = (
        (folder / "report.html")
        .read_text()
        .replace("name='bagel-fingerprint' content='", "name='bagel-fingerprint' content='old")
    )
    (folder / "report.html").write_text(stale)
    assert "report.html" not in files_to_push(folder)
