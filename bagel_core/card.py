"""The dataset card (``README.md``) of an output folder, built from its manifest and files.

The YAML header is what the Hugging Face Hub and ``datasets`` read: licence, upstream datasets,
task and size categories, one config per parquet file with its features. The body is for
people: content warnings first, then what each config holds and how to load it, every source
with its licence, terms and citation, the decontamination summary, and the recipe and command
that reproduce the run. Everything comes from ``manifest.json`` (which holds each component's
``license``/``terms``/``citation``/``content_warning``) and the parquet files' own schemas, so
``bagel push-to-hub`` can rebuild the card for a Hub repository without rerunning anything.
"""

from __future__ import annotations

import importlib.metadata as md
import json
from collections.abc import Iterable, Mapping
from pathlib import Path
from typing import Any

import pyarrow.parquet as pq

from .manifest import LoaderEntry, Manifest
from .records import LEGACY_SFT_COLUMNS

#: config name -> (file, what it is); ``sft`` is the default config.
CONFIGS = {
    "sft": (
        "sft.parquet",
        "one row per assistant turn and prompt format: the rendered `prompt`, trained on the `completion` (trl's names)",
    ),
    "dpo": (
        "dpo.parquet",
        "one row per preference pair and prompt format; the prompt is rendered, `chosen`/`rejected` are raw",
    ),
    "conversations": (
        "conversations.parquet",
        "one row per SFT conversation, unrendered, as OpenAI-style `messages` for a model's own chat template",
    ),
    "contamination": (
        "contamination.parquet",
        "every benchmark match: the item, the benchmark item, the decontaminator and its score",
    ),
    "near_duplicates": (
        "near_duplicates.parquet",
        "every item a deduper removed, beside the item kept in its place and their similarity",
    ),
}
#: Where the project's documentation lives in its source tree (no public URL is recorded).
DOCS_PATH = "docs/outputs.md"
REFERENCE_URL = "https://github.com/jondurbin/bagel"
#: The Hub's size buckets, by number of rows of the largest config.
_SIZES = [
    (1_000, "n<1K"),
    (10_000, "1K<n<10K"),
    (100_000, "10K<n<100K"),
    (1_000_000, "100K<n<1M"),
    (10_000_000, "1M<n<10M"),
    (100_000_000, "10M<n<100M"),
]


def size_category(rows: int) -> str:
    """The Hub's ``size_categories`` bucket of ``rows``.

    >>> size_category(999), size_category(1000), size_category(2_500_000)
    ('n<1K', '1K<n<10K', '1M<n<10M')
    """
    for bound, label in _SIZES:
        if rows < bound:
            return label
    return "100M<n<1B"


def card_license(licenses: Iterable[str | None]) -> tuple[str, list[str]]:
    """The card's ``license`` and the distinct licences behind it (of each source; ``None``: unknown).

    One licence shared by every source is the card's licence. Otherwise no single id is
    honest (there is no total order of strictness between, say, cc-by-sa-4.0 and a custom
    agreement), so the card says ``other`` and lists each source's licence in its body;
    ``unknown`` licences also make it ``other``.
    """
    distinct = sorted({license or "unknown" for license in licenses})
    if len(distinct) == 1 and distinct[0] not in ("unknown", "other"):
        return distinct[0], distinct
    return "other", distinct


def project_link() -> str:
    """A link to bagel that resolves: the package's recorded project URL, else the docs path
    inside its source tree (stated as such), and the reference implementation it follows."""
    try:
        urls = md.metadata("bagel-core").get_all("Project-URL") or []
    except md.PackageNotFoundError:
        urls = []
    for entry in urls:
        label, _, url = entry.partition(",")
        if url.strip().startswith("http"):
            return (
                f"[bagel]({url.strip()}) (the reference implementation it follows: [jondurbin/bagel]({REFERENCE_URL}))"
            )
    return (
        f"bagel (no public URL is recorded for this project; its documentation is `{DOCS_PATH}` in its "
        f"source tree), an implementation of the recipe of [jondurbin/bagel]({REFERENCE_URL})"
    )


def _rows(path: Path) -> int:
    return pq.read_metadata(path).num_rows if path.exists() else 0


def _features(path: Path) -> list[dict[str, Any]]:
    from datasets import Features

    return Features.from_arrow_schema(pq.read_schema(path))._to_yaml_list()


def header(out: Path, manifest: Manifest) -> dict[str, Any]:
    """The card's YAML metadata as a dict (validated by ``huggingface_hub.DatasetCardData``)."""
    sources = manifest.sources
    license_id, licenses = card_license(s.license for s in sources.values())
    configs, infos, largest = [], [], 0
    for name, (file, _) in CONFIGS.items():
        rows = _rows(out / file)
        if not rows:  # load_dataset fails on a config without data ("corresponds to no data")
            continue
        largest = max(largest, rows)
        configs.append(
            {
                "config_name": name,
                "data_files": [{"split": "train", "path": file}],
                **({"default": True} if name == "sft" else {}),
            }
        )
        infos.append(split_info(out / file, name))
    data: dict[str, Any] = {"pretty_name": "bagel dataset", "license": license_id}
    if license_id == "other":
        # Each source keeps its own licence: the body's "Licences and terms" lists them.
        data["license_name"] = "multiple-upstream-licenses"
        data["license_link"] = LICENSE_LINK
    data.update(language_fields(sources))
    warnings = any(s.content_warning for s in sources.values())
    data.update(
        source_datasets=sorted({d for s in sources.values() for d in s.dataset_ids}),
        task_categories=["text-generation"],
        size_categories=[size_category(largest)],
        tags=["bagel", "sft", "dpo", *(["not-for-all-audiences"] if warnings else [])],
        configs=configs,
        dataset_info=infos,
    )
    return data


#: Where the card's ``license_link`` points when the sources' licences differ: its own section
#: listing them (relative, so it resolves in the folder and on the Hub alike).
LICENSE_LINK = "README.md#licences-and-terms"


def split_info(path: Path, name: str) -> dict[str, Any]:
    """The ``dataset_info`` entry of one config, complete as ``datasets`` reads it (a split
    without ``num_bytes`` makes every ``load_dataset`` warn that the card is malformed):
    ``num_bytes`` is the data's uncompressed size as the parquet file records it (what the
    Arrow table takes in memory, near enough), ``download_size`` the file's size."""
    meta = pq.read_metadata(path)
    size = sum(meta.row_group(g).total_byte_size for g in range(meta.num_row_groups))
    return {
        "config_name": name,
        "features": _features(path),
        "splits": [{"name": "train", "num_bytes": size, "num_examples": meta.num_rows}],
        "download_size": path.stat().st_size,
        "dataset_size": size,
    }


def language_fields(sources: Mapping[str, LoaderEntry]) -> dict[str, Any]:
    """``language`` and ``multilinguality`` from the languages each component declares
    (``Loader.languages``; outputs made before it was recorded have none, so no field)."""
    declared = [s.languages for s in sources.values() if s.languages and _rows_of(s)]
    if not declared:
        return {}
    languages = sorted({code for codes in declared for code in codes}, key=lambda c: (c in ("multilingual", "code"), c))
    spoken = [c for c in languages if c != "code"]
    return {
        "language": languages,
        "multilinguality": ["multilingual" if len(spoken) > 1 or "multilingual" in spoken else "monolingual"],
    }


def _rows_of(entry: LoaderEntry) -> int:
    """Rows a component has in the output, all files together."""
    return entry.rows_written.sft + entry.rows_written.dpo + entry.rows_written.conversations


def _toml_value(value: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, (int, float)):
        return repr(value)
    if isinstance(value, (list, tuple)):
        return "[" + ", ".join(_toml_value(v) for v in value) + "]"
    if isinstance(value, dict):
        return "{" + ", ".join(f"{json.dumps(k)} = {_toml_value(v)}" for k, v in value.items()) + "}"
    return json.dumps(str(value))  # a JSON string is a valid TOML basic string


def recipe(manifest: Manifest) -> str:
    """A TOML recipe that reruns this output: the components used, by name, and the options
    the run set (every other option is the component's default at the listed version)."""
    from .registry import TABLES

    config = manifest.config
    loaders = manifest.components.loaders
    run = {  # an empty list is "none": a recipe may not select nothing by an empty list
        "sources": [c["name"] for c in loaders if c["kind"] == "source"] or "none",
        "dpo": [c["name"] for c in loaders if c["kind"] == "dpo_builder"] or "none",
        "formats": manifest.formats,
        **({"dedup": manifest.dedupers or "none"} if manifest.dedupers is not None else {}),
        "decontaminate": manifest.decontaminators or "none",
        "benchmarks": manifest.benchmarks or "all",
        **{
            k: config[k]
            for k in ("seed", "copies_per_item", "tokenizer", "decontaminate_dry_run", "sample")
            if config.get(k) is not None
        },
    }
    lines = ["[run]", *(f"{k} = {_toml_value(v)}" for k, v in run.items())]
    kinds = {k.name: table for table, k in TABLES.items()}
    for kind, components in sorted(config.get("options", {}).items()):
        for name, options in sorted(components.items()):
            lines += ["", f"[{kinds.get(kind, kind)}.{name}]", *(f"{k} = {_toml_value(v)}" for k, v in options.items())]
    return "\n".join(lines)


def _table(rows: list[list[Any]], head: list[str]) -> str:
    lines = ["| " + " | ".join(head) + " |", "| " + " | ".join("---" for _ in head) + " |"]
    lines += ["| " + " | ".join(str(c).replace("|", "\\|").replace("\n", " ") for c in row) + " |" for row in rows]
    return "\n".join(lines)


def _dataset_link(dataset_id: str) -> str:
    # Hub ids are owner/name; anything else (a website, a canonical id) is shown as text.
    if dataset_id.count("/") == 1 and "." not in dataset_id.split("/")[0]:
        return f"[{dataset_id}](https://huggingface.co/datasets/{dataset_id})"
    return f"`{dataset_id}`"


def _token_rows(tokens: dict[str, Any]) -> list[list[Any]]:
    """Token totals per prompt format, over all sources."""
    per_format: dict[str, list[int]] = {}
    for kind, columns, offset in (
        ("sft", ("rows", "prompt", "completion"), 0),
        ("dpo", ("rows", "prompt", "chosen", "rejected"), 3),
    ):
        for formats in tokens.get(kind, {}).values():
            for fmt, counts in formats.items():
                row = per_format.setdefault(fmt, [0] * 7)
                if kind == "sft":  # an earlier bagel's manifest says input/output
                    counts = {LEGACY_SFT_COLUMNS.get(k, k): v for k, v in counts.items()}
                for i, c in enumerate(columns):
                    row[offset + i] += counts[c]
    return [[fmt, *row] for fmt, row in sorted(per_format.items())]


#: Characters of each text field shown in a card's example record.
EXAMPLE_CHARS = 300


def summary(manifest: Manifest) -> str:
    """The card's first paragraph: what is in the dataset, in numbers."""
    sources, totals = manifest.sources, manifest.totals
    sft = [n for n, s in sources.items() if s.rows_written.sft]
    dpo = [n for n, s in sources.items() if s.rows_written.dpo]
    languages = language_fields(sources).get("language", [])
    upstream = {d for s in sources.values() for d in s.dataset_ids}
    return (
        f"A fine-tuning dataset composed by bagel from {len(upstream)} upstream datasets: {totals.conversations_rows:,} conversations "
        f"from {len(sft)} sources, rendered into {totals.sft_rows:,} SFT rows (prompt formats {', '.join(manifest.formats) or 'none'}), "
        f"and {totals.dpo_rows:,} DPO rows from {len(dpo)} preference-pair builders; deduplicated ({totals.duplicates:,} removed) and "
        f"decontaminated against benchmark test sets ({totals.contaminated:,} removed)."
        + (f" Languages: {', '.join(languages)}." if languages else "")
    )


def intended_use() -> str:
    return (
        "## Intended use\n\nSupervised fine-tuning (`sft`, `conversations`) and preference tuning (`dpo`) of instruction-following "
        "language models, for research and for models whose use the upstream licences allow (see *Licences and terms*: some "
        "sources are non-commercial or gated). Not meant as an evaluation set: benchmark test items were removed from it, and "
        "scores on those benchmarks after training on it are comparable only as far as decontamination caught every overlap."
    )


def limitations(manifest: Manifest) -> str:
    """Limitations and known biases, from what the manifest records about the components."""
    used = {n: s for n, s in manifest.sources.items() if _rows_of(s)}
    items = [
        "Answers are not checked for correctness beyond each source's own filters (see *Sources* and `manifest.json`)."
    ]
    generated = [n for n, s in used.items() if "generated with" in (s.terms or "").lower()]
    if generated:
        items.append(
            f"Model-written answers (their terms say so) in: {', '.join(generated)}: the writing models' errors, style and biases carry over."
        )
    english = [n for n, s in used.items() if s.languages == ["en"]]
    if used and english:
        items.append(
            f"Mostly English ({len(english)} of {len(used)} components); other languages come only from "
            f"{', '.join(n for n in used if n not in english) or 'none'}, so the mixture is skewed towards English-speaking norms and topics."
        )
    warned = [n for n, s in used.items() if s.content_warning]
    if warned:
        items.append(f"Harmful, toxic or adult content on purpose in: {', '.join(warned)} (see *Content warning*).")
    unknown = [n for n, s in used.items() if (s.license or "unknown") == "unknown"]
    if unknown:
        items.append(
            f"Licence not verified for: {', '.join(unknown)}: check the upstream terms before any use beyond research."
        )
    items.append(
        "Decontamination removes what its detectors match; paraphrases and translations of test items can remain."
    )
    return "## Limitations and known biases\n\n" + "\n".join(f"- {i}" for i in items)


def _first_row(path: Path) -> dict[str, Any] | None:
    for batch in pq.ParquetFile(path).iter_batches(batch_size=1):
        if batch.num_rows:
            return batch.to_pylist()[0]
    return None


def _cut(value: Any) -> Any:
    if isinstance(value, str):
        return (
            value
            if len(value) <= EXAMPLE_CHARS
            else value[:EXAMPLE_CHARS] + f"… ({len(value) - EXAMPLE_CHARS} more characters)"
        )
    if isinstance(value, list):
        return [_cut(v) for v in value]
    if isinstance(value, dict):
        return {k: _cut(v) for k, v in value.items()}
    return value


def example_records(out: Path) -> str:
    """The first row of each config with rows, long texts cut, as JSON."""
    parts = []
    for name, (file, _) in CONFIGS.items():
        if _rows(out / file):
            row = _first_row(out / file)
            parts.append(
                f"`{name}`:\n\n```json\n{json.dumps(_cut(row), indent=2, ensure_ascii=False, default=str)}\n```"
            )
    return (
        "## Example records\n\nThe first row of each config (texts cut at "
        + f"{EXAMPLE_CHARS} characters).\n\n"
        + "\n\n".join(parts)
    )


def usage(location: str | None, folder: str) -> str:
    """The usage snippet: ``load_dataset`` on the Hub repository ``location``, or, for a local
    folder, on its path relative to where Python runs (the card names no absolute path, so it
    stays right when the folder is moved, copied or published)."""
    if location:
        setup, where = "", repr(location)
    else:
        setup, where = (
            f"folder = {folder!r}  # this folder (the one holding this README.md), from where you run Python\n",
            "folder",
        )
    return (
        "## Usage\n\n```python\nfrom datasets import load_dataset\n\n"
        + setup
        + f'sft = load_dataset({where}, "sft", split="train")                      # prompt/completion\n'
        f'dpo = load_dataset({where}, "dpo", split="train")                      # prompt/chosen/rejected\n'
        f'conversations = load_dataset({where}, "conversations", split="train")  # messages\n```\n\n'
        "trl's `SFTTrainer` trains on `sft` (prompt-completion) or `conversations` (with the model's chat template) "
        "and `DPOTrainer` on `dpo`, as loaded. `bagel export axolotl|llama-factory` writes the configs those tools need."
    )


#: What each built-in decontaminator compares (docs/decontamination.md).
DECONTAMINATORS = {
    "ngram": "`ngram` (shared word 13-grams; a short benchmark text quoted whole or one word away)",
    "embedding": "`embedding` (all-MiniLM-L6-v2 cosine per benchmark view, thresholds per view, behind a static-model first pass)",
    "code": "`code` (Python programs compared after normalisation, with evidence of the same task)",
}
#: What the default set was measured to catch and flag (docs/decontamination.md, "Measured on
#: LLM-written rephrases"): the held-out half, at the default options.
DEFAULT_SET_MEASURED = (
    "Measured at the defaults on the held-out half of LLM-written (GPT-4) rephrases of real test items (the LMSYS "
    "llm-decontaminator release): caught 99.5% of GSM8K rephrases, 92.5-99.0% of MMLU rephrases with their choices, "
    "86-89% of MMLU questions rephrased alone, 75.3% / 84.3% of rewritten HumanEval programs (signature and docstring / "
    "whole program); flagged 0.3% of real clean text and 2.2% of real programs that resemble a HumanEval task without "
    "being one. What is not caught stays in the data; see docs/decontamination.md."
)


def decontamination_meaning(names: list[str]) -> str:
    """What "decontaminated" means here: the decontaminators used and, for the default set,
    what they were measured to catch and to flag."""
    text = "Decontaminators: " + "; ".join(DECONTAMINATORS.get(n, f"`{n}` (a plugin's)") for n in names) + "."
    if sorted(names) == sorted(DECONTAMINATORS):
        return text + " " + DEFAULT_SET_MEASURED
    return (
        text
        + " Recall and precision were measured for the default set (ngram, embedding, code) only; see docs/decontamination.md."
    )


def body(out: Path, manifest: Manifest, location: str | None, chart: str | None) -> str:
    """The card's Markdown body. ``location`` is what ``load_dataset`` is given in the usage
    snippet: a Hub repository id, or ``None`` for the folder itself (by its name)."""
    sources = manifest.sources
    contamination = manifest.contamination
    config = manifest.config
    totals = manifest.totals
    parts = [
        f"# bagel dataset\n\n{summary(manifest)}\n\nComposed by bagel-core {manifest.bagel_version} from {len(sources)} sources and DPO pair builders "
        f"with seed {config['seed']}, rendered into the prompt formats {', '.join(manifest.formats) or 'none'}.\n\nProject: {project_link()}."
    ]

    if manifest.warnings:  # what the run itself found suspicious (sources yielding nothing, ...)
        parts.append("## Warnings\n\n" + "\n".join(f"- **{w}**" for w in manifest.warnings))

    warned = [(n, s.content_warning) for n, s in sources.items() if s.content_warning and _rows_of(s)]
    if warned:
        parts.append("## Content warning\n\n" + "\n".join(f"- **{n}**: {w}" for n, w in warned))

    rows, empty = [], []
    for name, (file, what) in CONFIGS.items():
        if _rows(out / file):
            meta = pq.read_metadata(out / file)
            rows.append(
                [
                    f"`{name}`",
                    f"`{file}`",
                    meta.num_rows,
                    ", ".join(f"`{c}`" for c in meta.schema.to_arrow_schema().names),
                    what,
                ]
            )
        else:
            empty.append(f"`{file}`")
    parts.append("## Configs\n\n" + _table(rows, ["config", "file", "rows", "columns", "content"]))
    if empty:
        parts[-1] += (
            f"\n\n{', '.join(empty)} {'has' if len(empty) == 1 else 'have'} no rows in this run, so no config points to {'it' if len(empty) == 1 else 'them'}."
        )
    if totals.conversations_skipped_plain_text:
        parts[-1] += (
            f"\n\n{totals.conversations_skipped_plain_text} plain-text items have no conversation: they are in `sft` (empty prompt) but not in `conversations`."
        )

    parts.append(usage(location, Path(out).name))
    parts.append(intended_use())
    if chart:
        parts.append(f"## Mixture\n\n![Items per source]({chart})")

    rows = [
        [
            name,
            s.kind,
            ", ".join(_dataset_link(d) for d in s.dataset_ids) or "local files",
            s.license or "unknown",
            *s.counts(),
            s.rows_written.conversations,
        ]
        for name, s in sources.items()
    ]
    parts.append(
        "## Sources\n\n"
        + _table(
            rows,
            [
                "source",
                "kind",
                "upstream",
                "licence",
                "loaded",
                "rejected",
                "filtered",
                "duplicates",
                "contaminated",
                "sft rows",
                "dpo rows",
                "conversations",
            ],
        )
    )

    if manifest.tokens:
        parts.append(
            f"## Tokens\n\nWith the tokenizer `{manifest.tokens['tokenizer']}` (no special tokens added; BOS/EOS the formats write count where they appear); per source in `manifest.json`.\n\n"
            + _table(
                _token_rows(manifest.tokens),
                [
                    "format",
                    "sft rows",
                    "sft prompt tokens",
                    "completion tokens",
                    "dpo rows",
                    "dpo prompt tokens",
                    "chosen tokens",
                    "rejected tokens",
                ],
            )
        )

    license_id, licenses = card_license(s.license for s in sources.values())
    lines = [
        f"The card's licence is `{license_id}`"
        + (
            f": the sources' licences differ or are not all known ({', '.join(licenses)}); each source's data stays under its own licence and terms."
            if license_id == "other"
            else ", the licence of every source."
        ),
        "",
    ]
    for name, s in sources.items():
        lines.append(f"- **{name}** (`{s.license or 'unknown'}`)" + (f": {s.terms}" if s.terms else ""))
    parts.append("## Licences and terms\n\n" + "\n".join(lines))

    cited: dict[str, list[str]] = {}  # one entry per BibTeX, with every component that gives it
    for name, s in sources.items():
        if s.citation:
            cited.setdefault(s.citation.strip(), []).append(name)
    uncited = [n for n, s in sources.items() if not s.citation]
    text = (
        "\n\n".join(f"{', '.join(names)}:\n\n```bibtex\n{c}\n```" for c, names in cited.items())
        or "No source gives a citation."
    )
    if uncited:
        text += f"\n\nNo citation is given (or recorded) for: {', '.join(uncited)}."
    parts.append("## Citations\n\n" + text)

    dedup_rows = [
        [name, deduper, d.removed, ", ".join(f"{kept} {n}" for kept, n in d.lost_to.items())]
        for name, s in sources.items()
        for deduper, d in s.dedup.items()
    ]
    parts.append(
        f"## Duplicates by deduper\n\nDedupers, in order: {', '.join(manifest.dedupers or []) or 'none'}. Within a cluster of duplicates the item "
        "of the highest-priority source is kept; the `near_duplicates` config lists each removed item beside the item kept in its place.\n\n"
        + (
            _table(dedup_rows, ["source", "deduper", "items removed", "lost to (source of the kept item)"])
            if dedup_rows
            else "No duplicates removed."
        )
    )

    dry = contamination.get("dry_run")
    decon = manifest.decontaminators
    if decon:
        text = (
            f"Decontaminators {', '.join(decon)} checked every SFT instruction and DPO prompt against {', '.join(manifest.benchmarks)}: "
            f"{contamination.get('flagged', 0)} items matched and were {'reported only (dry run)' if dry else 'removed'}; the `contamination` config lists every match."
        )
        text += "\n\n" + decontamination_meaning(decon)
        bench = [[b, n] for b, n in sorted(contamination.get("by_benchmark", {}).items())]
        if bench:
            text += "\n\n" + _table(
                bench, ["benchmark", "items matched (reported only, dry run)" if dry else "items removed"]
            )
    else:
        text = "No decontamination was run: items were not checked against benchmark test sets."
    parts.append("## Decontamination\n\n" + text)

    parts.append(limitations(manifest))
    parts.append(example_records(out))

    command = manifest.command
    parts.append(
        "## Reproduce\n\n"
        + (
            f"Command:\n\n```bash\n{command}\n```\n\n"
            if command
            else "The run was started from Python (no command line recorded).\n\n"
        )
        + f"Recipe (components by name; other options are each component's defaults at the versions in `manifest.json`):\n\n```toml\n{recipe(manifest)}\n```\n\n"
        "`manifest.json` holds the full configuration, the plugins and their versions, and the counts by reason."
    )
    return "\n\n".join(parts) + "\n"


def render(
    out: Path,
    manifest: Manifest,
    location: str | None = None,
    chart: str | None = None,
    final: Path | None = None,
) -> str:
    """The whole card: YAML header (through ``huggingface_hub.DatasetCardData``) and body.
    ``final``: where the folder will be once published (``out`` is its staging copy then)."""
    from huggingface_hub import DatasetCardData

    data = DatasetCardData(**header(out, manifest))
    return f"---\n{data.to_yaml()}\n---\n\n" + relative_paths(body(out, manifest, location, chart), final or out)


def relative_paths(text: str, out: Path) -> str:
    """``text`` with the output folder's absolute path (in the recorded command, say) written
    as the folder's name, the way the usage snippet names it."""
    absolute = str(Path(out).resolve())
    return text.replace(absolute + "/", Path(out).name + "/").replace(absolute, Path(out).name)
