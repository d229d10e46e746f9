"""``bagel push-to-hub OUT REPO``: publish an output folder as a Hugging Face dataset repository.

One commit through ``huggingface_hub.HfApi`` (create the repo if needed, then
``create_commit`` with every file): the parquet files that have rows, ``manifest.json``, the
report and chart when ``bagel report`` made them, and the dataset card rebuilt for the Hub (its
usage snippet loads ``REPO`` instead of the local folder). Left out: the stage cache
(``.bagel-work``) and the ``bagel export`` files, whose paths are local.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pyarrow.parquet as pq

from . import card
from .manifest import read_manifest
from .report import report_fingerprint

#: Files published when present (parquet files only when they have rows).
PARQUET = ("sft.parquet", "dpo.parquet", "conversations.parquet", "contamination.parquet", "near_duplicates.parquet")
EXTRA = ("manifest.json", "report.html", "mixture.png")  # report.html only if it is of this output


class PushError(ValueError):
    """The folder cannot be published as it is."""


def files_to_push(out: Path) -> list[str]:
    """Names of the files of ``out`` that go to the Hub, the card (``README.md``) last."""
    out = Path(out)
    if not (out / "manifest.json").exists():
        raise PushError(f"{out} is not a finished bagel output (no manifest.json); run `bagel run --out {out}` first")
    manifest = read_manifest(out)  # one this bagel cannot read (a newer format) is an error before any upload
    names = [n for n in PARQUET if (out / n).exists() and pq.read_metadata(out / n).num_rows]
    names += [n for n in EXTRA if (out / n).exists()]
    if "report.html" in names and report_fingerprint(out / "report.html") != manifest.fingerprint:
        names.remove("report.html")  # made for an earlier output of this folder: stale
    return [*names, "README.md"]


def hub_card(out: Path, repo_id: str) -> str:
    """The dataset card with ``load_dataset(repo_id, ...)`` in its usage snippet."""
    chart = "mixture.png" if (Path(out) / "mixture.png").exists() else None
    return card.render(Path(out), read_manifest(out), location=repo_id, chart=chart)


def push(
    out: Path,
    repo_id: str,
    *,
    private: bool = False,
    revision: str | None = None,
    commit_message: str | None = None,
    token: str | None = None,
    api: Any = None,
) -> Any:
    """Upload ``out`` to the dataset repository ``repo_id`` in one commit; returns the commit
    info. ``api`` is an ``HfApi`` (made with ``token`` when not given)."""
    from huggingface_hub import CommitOperationAdd, HfApi

    out = Path(out)
    names = files_to_push(out)
    if "/" not in repo_id:
        raise PushError(f"repository id must be 'owner/name', got {repo_id!r}")
    api = api if api is not None else HfApi(token=token)
    api.create_repo(repo_id, repo_type="dataset", private=private, exist_ok=True)
    operations = [CommitOperationAdd(path_in_repo=name, path_or_fileobj=str(out / name)) for name in names[:-1]]
    operations.append(CommitOperationAdd(path_in_repo="README.md", path_or_fileobj=hub_card(out, repo_id).encode()))
    manifest = read_manifest(out)
    message = (
        commit_message
        or f"bagel {manifest.bagel_version}: {manifest.totals.sft_rows} sft rows, {manifest.totals.dpo_rows} dpo rows"
    )
    return api.create_commit(
        repo_id, operations=operations, commit_message=message, repo_type="dataset", revision=revision
    )
