"""Access to upstream datasets: the Hub through ``datasets``, or a local data root.

A data root maps the dataset id ``owner/name`` to the folder ``ROOT/owner/name/`` holding the
upstream files in their upstream layout (what ``huggingface-cli download --repo-type dataset``
writes). ``--sample`` points the data root at the samples a plugin ships.
"""

from __future__ import annotations

import hashlib
import zipfile
from collections.abc import Callable
from pathlib import Path
from typing import Any, Protocol

from .errors import is_environment
from .readers import MalformedFile


class ShipsSamples(Protocol):
    """A loader or benchmark set class, as far as data access reads it (a protocol, so that
    this module does not import the components, whose context imports it)."""

    @property
    def sample_root(self) -> Path | None: ...


class DatasetUnavailable(Exception):
    """An upstream dataset could not be read; the message says how to provide it."""

    def __init__(self, dataset_id: str, detail: str, data_root: Path | None = None, sample: bool = False) -> None:
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
        self.detail = detail


class DatasetNotLoadable(DatasetUnavailable):
    """A dataset is there (on the Hub or in the data root) but this ``datasets`` cannot load it
    as it stands; the message says what to do."""

    def __init__(self, dataset_id: str, detail: str, what_to_do: str) -> None:
        Exception.__init__(self, f"dataset {dataset_id!r} is present but not loadable ({detail}); {what_to_do}")
        self.dataset_id = dataset_id


#: ``datasets`` errors meaning "present, but not loadable by this version": message fragment ->
#: what to do. datasets >= 4 refuses repositories (and local copies) that hold a loading script.
_NOT_LOADABLE = {
    "Dataset scripts are no longer supported": (
        "datasets >= 4 no longer runs loading scripts; delete the .py script from the local copy "
        "(its data files are read without it), or download the Hub's parquet conversion "
        "(`huggingface-cli download --repo-type dataset --revision refs/convert/parquet {dataset_id}`) "
        "into {where}/"
    ),
}


def _not_loadable(dataset_id: str, exc: BaseException, where: Path) -> DatasetNotLoadable | None:
    """The :class:`DatasetNotLoadable` that ``exc`` (raised by ``datasets``) means, if any."""
    message = str(exc).splitlines()[0] if str(exc) else ""
    for fragment, what_to_do in _NOT_LOADABLE.items():
        if fragment in message:
            return DatasetNotLoadable(
                dataset_id, f"{type(exc).__name__}: {message}", what_to_do.format(dataset_id=dataset_id, where=where)
            )
    return None


#: Datasets renamed on the Hub: old id -> current id. The Hub redirects an old id; a data root
#: may hold the folder under either name, and a component asking for either finds it.
RENAMED = {
    "WizardLM/WizardLM_evol_instruct_70k": "WizardLMTeam/WizardLM_evol_instruct_70k",
    "openai_humaneval": "openai/openai_humaneval",
}


def folder_names(dataset_id: str) -> list[str]:
    """The folder names a data root may hold ``dataset_id`` under: the id itself first, then
    its current id and its older ids (:data:`RENAMED`)."""
    current = RENAMED.get(dataset_id, dataset_id)
    names = [dataset_id, current, *(old for old, new in RENAMED.items() if new == current)]
    return list(dict.fromkeys(names))


#: Suffixes of the upstream files ``datasets`` reads from a local folder.
_DATA_SUFFIXES = (".json", ".jsonl", ".parquet", ".csv", ".tsv", ".txt", ".arrow", ".gz", ".zst", ".bz2", ".xz", ".zip")

#: Called for each line a JSON reader skips: ``reject(reason, at=where, row=excerpt)``.
Reject = Callable[..., None]


def _resolve(folder: Path, data_files: Any) -> dict[str, list[Path]]:
    """The files of each split that ``data_files`` names in ``folder`` (every data file of the
    folder under "train" when it names none)."""
    if data_files is None:
        return {
            "train": sorted(
                p
                for p in folder.rglob("*")
                if p.is_file() and p.suffix in _DATA_SUFFIXES and not p.name.startswith(".")
            )
        }
    by_split = data_files if isinstance(data_files, dict) else {"train": data_files}
    resolved: dict[str, list[Path]] = {}
    for split_name, patterns in by_split.items():
        patterns = [patterns] if isinstance(patterns, str) else list(patterns)
        resolved[split_name] = [p for pattern in patterns for p in sorted(folder.glob(pattern)) if p.is_file()]
    return resolved


def _json_lines_files(
    resolved: dict[str, list[Path]], clean: bool = False, reject: Reject | None = None
) -> dict[str, list[str]] | None:
    """``resolved`` with every JSON-array file replaced by a JSON-lines copy (see
    :mod:`bagel_core.json_arrays`) and, with ``clean``, every JSON-lines file with bad lines by
    a copy without them (each bad line reported to ``reject``); ``None`` when there is nothing
    to replace or the files are not all JSON."""
    import datasets

    from .json_arrays import as_json_lines, is_json_array, without_bad_lines

    files = [p for paths in resolved.values() for p in paths]
    if not files or any(p.suffix not in (".json", ".jsonl") for p in files):
        return None
    if not clean and not any(is_json_array(p) for p in files):
        return None
    cache = Path(datasets.config.HF_DATASETS_CACHE) / "bagel-json-lines"

    def copy(path: Path) -> str:
        if is_json_array(path):
            try:
                return str(as_json_lines(path, cache))
            except (ValueError, UnicodeDecodeError) as exc:
                raise MalformedFile(path, f"not a valid JSON array ({exc})") from None
        return str(without_bad_lines(path, cache, reject) if clean else path)

    return {split_name: [copy(p) for p in paths] for split_name, paths in resolved.items()}


def _malformed(resolved: dict[str, list[Path]], exc: BaseException) -> MalformedFile:
    """The file ``datasets`` could not read, with what is wrong with it."""
    files = [p for paths in resolved.values() for p in paths]
    for path in files:
        if not path.read_bytes()[: 1 << 16].strip(b" \t\r\n\xef\xbb\xbf") and path.stat().st_size < 1 << 16:
            return MalformedFile(path, "the file is empty")
        if path.suffix == ".parquet":
            import pyarrow as pa
            import pyarrow.parquet as pq

            try:
                pq.read_metadata(path)
            except (pa.ArrowException, OSError) as problem:
                return MalformedFile(path, f"not a readable parquet file ({problem})")
    what = files[0] if len(files) == 1 else (files[0].parent if files else "the local files")
    detail = str(exc.__cause__ or exc).strip().splitlines()
    return MalformedFile(
        what, f"datasets could not read it ({type(exc.__cause__ or exc).__name__}: {detail[0] if detail else ''})"
    )


class DataAccess:
    """Where one component reads its upstream data from."""

    def __init__(self, data_root: Path | None = None, sample: bool = False, hub: bool = True) -> None:
        self.data_root = Path(data_root) if data_root is not None else None
        self.sample = sample
        # With --sample nothing may come from the network.
        self.hub = hub and not sample

    @classmethod
    def for_component(cls, component: ShipsSamples, data_root: Path | None = None, sample: bool = False) -> DataAccess:
        """Where a loader or benchmark set reads: the samples it ships under ``--sample``, else
        ``data_root`` (if any) and the Hub."""
        if sample:
            return cls(component.sample_root, sample=True)
        return cls(data_root)

    def local_dir(self, dataset_id: str) -> Path | None:
        """``ROOT/owner/name`` when a data root is set and holds that dataset (under its id,
        or under another name it had on the Hub: :data:`RENAMED`)."""
        if self.data_root is None:
            return None
        for name in folder_names(dataset_id):
            folder = self.data_root / name
            if folder.is_dir():
                return folder
        return None

    def _missing(self, dataset_id: str, detail: str) -> DatasetUnavailable:
        return DatasetUnavailable(dataset_id, detail, self.data_root, self.sample)

    def load_dataset(
        self,
        dataset_id: str,
        name: str | None = None,
        split: str = "train",
        data_files: Any = None,
        reject: Reject | None = None,
        **kwargs: Any,
    ):
        """``datasets.load_dataset`` on the local copy if there is one, else on the Hub.

        ``data_files`` (relative to the dataset's root) selects upstream files; give it for
        datasets whose configs are folders or files, so the local layout loads the same way.
        A local JSON-lines file with bad lines is read without them, each reported to
        ``reject``; a local file that is empty or corrupt raises :class:`MalformedFile`.
        """
        import datasets

        folder = self.local_dir(dataset_id)
        try:
            if folder is not None:
                return self._load_local(folder, data_files, split, reject, **kwargs)
            if not self.hub:
                raise self._missing(dataset_id, "no local copy")
            return datasets.load_dataset(dataset_id, name, data_files=data_files, split=split, **kwargs)
        except (DatasetUnavailable, MalformedFile):
            raise
        except (OSError, ValueError, datasets.exceptions.DatasetNotFoundError) as exc:
            if is_environment(exc):  # a full disk while datasets writes its cache, say
                raise
            raise self._missing(dataset_id, f"{type(exc).__name__}: {exc}") from exc
        except RuntimeError as exc:
            where = folder if folder is not None else (self.data_root or Path("ROOT")) / dataset_id
            unloadable = _not_loadable(dataset_id, exc, where)
            if unloadable is None:
                raise
            raise unloadable from exc

    def _load_local(self, folder: Path, data_files: Any, split: str, reject: Reject | None, **kwargs: Any):
        """Load files present in ``folder``: a failure is theirs ("present but malformed"),
        after one retry without the bad lines of JSON-lines files."""
        import datasets

        resolved = _resolve(folder, data_files)
        lines = _json_lines_files(resolved)
        try:
            if lines is not None:
                return datasets.load_dataset("json", data_files=lines, split=split, **kwargs)
            return datasets.load_dataset(str(folder), data_files=data_files, split=split, **kwargs)
        except (
            datasets.exceptions.DatasetGenerationError,
            OSError,
            ValueError,
            StopIteration,
            zipfile.BadZipFile,
        ) as exc:
            if (
                isinstance(exc, FileNotFoundError)
                or not any(resolved.values())
                or is_environment(exc)
                or is_environment(exc.__cause__)
            ):
                raise  # nothing there to blame (not available), or the machine's fault
            failure = exc
        clean = _json_lines_files(resolved, clean=True, reject=reject)
        if clean is not None:
            try:
                return datasets.load_dataset("json", data_files=clean, split=split, **kwargs)
            except (datasets.exceptions.DatasetGenerationError, OSError, ValueError, StopIteration) as exc:
                failure = exc
        raise _malformed(resolved, failure) from failure

    def file(self, dataset_id: str, filename: str, url: str | None = None, revision: str | None = None) -> Path:
        """One upstream file: local copy, else the Hub at ``revision`` (None: the default
        branch), or ``url`` for data hosted elsewhere. A local copy is read as it is."""
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

            return Path(hf_hub_download(dataset_id, filename, repo_type="dataset", revision=revision))
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
