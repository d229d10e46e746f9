"""Access to upstream datasets: the Hub through ``datasets``, or a local data root.

A data root maps the dataset id ``owner/name`` to the folder ``ROOT/owner/name/`` holding the
upstream files in their upstream layout (what ``huggingface-cli download --repo-type dataset``
writes). ``--sample`` points the data root at the samples a plugin ships.
"""

from __future__ import annotations

import hashlib
from pathlib import Path
from typing import Any, Optional


class DatasetUnavailable(Exception):
    """An upstream dataset could not be read; the message says how to provide it."""

    def __init__(self, dataset_id: str, detail: str, data_root: Optional[Path] = None, sample: bool = False) -> None:
        if sample:
            how = f"the plugin ships no sample for it (looked in {data_root / dataset_id if data_root else '?'})"
        else:
            where = data_root / dataset_id if data_root else Path("ROOT") / dataset_id
            how = (
                f"provide it either on the Hugging Face Hub cache (run online once, or "
                f"`huggingface-cli download --repo-type dataset {dataset_id}`), or as upstream files "
                f"in {where}/ with `--data-root {data_root or 'ROOT'}`"
            )
        super().__init__(f"dataset {dataset_id!r} is not available ({detail}); {how}")
        self.dataset_id = dataset_id


def _json_lines_files(folder: Path, data_files: Any) -> Optional[dict[str, list[str]]]:
    """``data_files`` resolved in ``folder`` with every JSON-array file replaced by a JSON-lines
    copy (see :mod:`bagel_core.json_arrays`), or ``None`` when there is no such file to replace
    or the files are not all JSON."""
    import datasets

    from .json_arrays import as_json_lines, is_json_array

    if data_files is None:
        return None
    by_split = data_files if isinstance(data_files, dict) else {"train": data_files}
    resolved: dict[str, list[Path]] = {}
    for split_name, patterns in by_split.items():
        patterns = [patterns] if isinstance(patterns, str) else list(patterns)
        resolved[split_name] = [p for pattern in patterns for p in sorted(folder.glob(pattern)) if p.is_file()]
    files = [p for paths in resolved.values() for p in paths]
    if not files or any(p.suffix not in (".json", ".jsonl") for p in files) or not any(is_json_array(p) for p in files):
        return None
    cache = Path(datasets.config.HF_DATASETS_CACHE) / "bagel-json-lines"
    return {
        split_name: [str(as_json_lines(p, cache) if is_json_array(p) else p) for p in paths]
        for split_name, paths in resolved.items()
    }


class DataAccess:
    """Where one component reads its upstream data from."""

    def __init__(self, data_root: Optional[Path] = None, sample: bool = False, hub: bool = True) -> None:
        self.data_root = Path(data_root) if data_root is not None else None
        self.sample = sample
        # With --sample nothing may come from the network.
        self.hub = hub and not sample

    @classmethod
    def for_component(cls, component: type, data_root: Optional[Path] = None, sample: bool = False) -> "DataAccess":
        """Where a loader or benchmark set reads: the samples it ships under ``--sample``, else
        ``data_root`` (if any) and the Hub."""
        if sample:
            return cls(component.sample_root, sample=True)
        return cls(data_root)

    def local_dir(self, dataset_id: str) -> Optional[Path]:
        """``ROOT/owner/name`` when a data root is set and holds that dataset."""
        if self.data_root is None:
            return None
        folder = self.data_root / dataset_id
        return folder if folder.is_dir() else None

    def _missing(self, dataset_id: str, detail: str) -> DatasetUnavailable:
        return DatasetUnavailable(dataset_id, detail, self.data_root, self.sample)

    def load_dataset(
        self,
        dataset_id: str,
        name: Optional[str] = None,
        split: str = "train",
        data_files: Any = None,
        **kwargs: Any,
    ):
        """``datasets.load_dataset`` on the local copy if there is one, else on the Hub.

        ``data_files`` (relative to the dataset's root) selects upstream files; give it for
        datasets whose configs are folders or files, so the local layout loads the same way.
        """
        import datasets

        folder = self.local_dir(dataset_id)
        try:
            if folder is not None:
                lines = _json_lines_files(folder, data_files)
                if lines is not None:
                    return datasets.load_dataset("json", data_files=lines, split=split, **kwargs)
                return datasets.load_dataset(str(folder), data_files=data_files, split=split, **kwargs)
            if not self.hub:
                raise self._missing(dataset_id, "no local copy")
            return datasets.load_dataset(dataset_id, name, data_files=data_files, split=split, **kwargs)
        except DatasetUnavailable:
            raise
        except (OSError, ValueError, datasets.exceptions.DatasetNotFoundError) as exc:
            raise self._missing(dataset_id, f"{type(exc).__name__}: {exc}") from exc

    def file(self, dataset_id: str, filename: str, url: Optional[str] = None) -> Path:
        """One upstream file: local copy, else the Hub (or ``url`` for data hosted elsewhere)."""
        folder = self.local_dir(dataset_id)
        if folder is not None:
            path = folder / filename
            if path.is_file():
                return path
            raise self._missing(dataset_id, f"{path} does not exist")
        if not self.hub:
            raise self._missing(dataset_id, "no local copy")
        try:
            if url is not None:
                import datasets

                return Path(datasets.DownloadManager().download(url))
            from huggingface_hub import hf_hub_download

            return Path(hf_hub_download(dataset_id, filename, repo_type="dataset"))
        except Exception as exc:  # network, auth and missing-file errors all mean "not available"
            raise self._missing(dataset_id, f"{type(exc).__name__}: {exc}") from exc

    def fingerprint(self, dataset_ids: tuple[str, ...]) -> str:
        """Changes when a local copy's files change (names, sizes, mtimes)."""
        digest = hashlib.blake2b(digest_size=12)
        digest.update(repr((str(self.data_root), self.sample, self.hub)).encode())
        for dataset_id in dataset_ids:
            digest.update(dataset_id.encode())
            folder = self.local_dir(dataset_id)
            if folder is None:
                continue
            for path in sorted(p for p in folder.rglob("*") if p.is_file()):
                stat = path.stat()
                digest.update(f"{path.relative_to(folder)}\0{stat.st_size}\0{stat.st_mtime_ns}".encode())
        return digest.hexdigest()
