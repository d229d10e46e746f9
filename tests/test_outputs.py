"""The output configs as the ecosystem reads them: ``datasets.load_dataset(out, NAME)`` for every
config, trl's trainers on them as written, and the conversations config against the items as
loaded."""

from __future__ import annotations

import json
from pathlib import Path

import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from bagel_core.config import RunConfig
from bagel_core.pipeline import run
from bagel_core.registry import load_plugins
from bagel_core.stages.conversations import as_messages

#: Sources with multi-turn conversations, system prompts, plain text and DPO pairs.
#: truthy-dpo's sample has a TruthfulQA question the n-gram decontaminator finds.
SAMPLE = dict(
    sources="local,capybara,airoboros,gutenberg,mmlu",
    dpo="truthy-dpo,helpsteer",
    formats="all",
    decontaminate="ngram",
    sample=True,
)


@pytest.fixture(scope="module")
def sample_out(tmp_path_factory) -> Path:
    out = tmp_path_factory.mktemp("sample") / "out"
    run(RunConfig(out=out, **SAMPLE), load_plugins())
    return out


def load(out: Path, config: str, tmp_path: Path):
    """``load_dataset(out, config)`` with a cache of this test's own."""
    import datasets

    return datasets.load_dataset(str(out), config, split="train", cache_dir=str(tmp_path / "hf-cache"))


def test_every_config_loads_with_its_card_features(sample_out, tmp_path):
    from huggingface_hub import DatasetCard

    card = DatasetCard.load(sample_out / "README.md")
    declared = {c["config_name"] for c in card.data.configs}
    # airoboros' sample repeats an instruction: the exact deduper's report has a row.
    assert declared == {"sft", "dpo", "conversations", "contamination", "near_duplicates"}
    assert len(load(sample_out, "contamination", tmp_path)) >= 1
    features = {info["config_name"]: info["features"] for info in card.data.dataset_info}
    for name in sorted(declared):
        rows = load(sample_out, name, tmp_path)
        assert rows.column_names == [f["name"] for f in features[name]], name
    assert len(load(sample_out, "sft", tmp_path)) > 0 and len(load(sample_out, "conversations", tmp_path)) > 0


def test_sft_holds_each_text_once_under_trl_names(sample_out):
    # One copy of the rendered prompt and of the answer: what trl, axolotl, LLaMA-Factory, the
    # card, the report and `bagel train` all read (issue 29: the duplicated input/output cost
    # render time and doubled the file).
    assert pq.read_schema(sample_out / "sft.parquet").names == ["id", "source", "format", "prompt", "completion"]


def test_prompts_end_on_a_token_boundary(sample_out):
    """The spaces ending a format's prompt (vicuna's "ASSISTANT: ") begin the answer, in SFT and
    DPO rows alike (docs/formats.md#the-token-boundary)."""
    sft = pq.read_table(sample_out / "sft.parquet").to_pylist()
    assert not any(r["prompt"].endswith(" ") for r in sft)
    vicuna = [r for r in sft if r["format"] == "vicuna"]
    assert vicuna and all(r["prompt"].endswith("ASSISTANT:") and r["completion"].startswith(" ") for r in vicuna)
    for r in pq.read_table(sample_out / "dpo.parquet").to_pylist():
        assert not r["prompt"].endswith(" ")
        if r["format"] == "vicuna":  # "ASSISTANT:" then " " + the raw answer
            assert r["prompt"].endswith("ASSISTANT:") and r["chosen"][0] == r["rejected"][0] == " "


def _kept_conversations(out: Path) -> dict[str, list[dict]]:
    """The SFT items dedup and decontamination kept, as loaded."""
    (stage,) = (out / ".bagel-work" / "decontaminate").glob("*/sft.parquet")
    rows = pq.read_table(stage, columns=["id", "conversations"]).to_pylist()
    return {row["id"]: row["conversations"] for row in rows if row["conversations"]}


def test_conversations_round_trip_multi_turn_items_exactly(sample_out, tmp_path):
    rows = load(sample_out, "conversations", tmp_path)
    loaded = _kept_conversations(sample_out)
    back = {"system": "system", "user": "human", "assistant": "gpt"}
    multi = 0
    for row in rows:
        turns = [{"from": back[m["role"]], "value": m["content"]} for m in row["messages"]]
        assert turns == loaded[row["id"]]
        multi += sum(m["role"] == "assistant" for m in row["messages"]) > 1
    assert len(rows) == len(loaded)
    assert multi >= 3  # capybara and the local sample are multi-turn
    # One row per SFT conversation; the plain-text items (gutenberg's, the local sample's) are
    # counted, not written: in sft.parquet they are the rows with an empty prompt (written once).
    manifest = json.loads((sample_out / "manifest.json").read_text())
    assert len(rows) == manifest["totals"]["conversations_rows"]
    plain = pq.read_table(sample_out / "sft.parquet", filters=[("prompt", "==", "")]).num_rows
    assert plain >= 3 and manifest["totals"]["conversations_skipped_plain_text"] == plain


def test_as_messages_keeps_text_byte_for_byte():
    turns = [
        {"from": "system", "value": "  Be terse.\n"},
        {"from": "human", "value": "Two\n\n\n\nparagraphs"},
        {"from": "gpt", "value": "Kept:\n\n\n\nas is \t"},
    ]
    array = pa.array([turns, turns[1:]], pa.list_(pa.struct([("from", pa.string()), ("value", pa.string())])))
    messages = as_messages(array.slice(1, 1)).to_pylist()
    assert messages == [
        [
            {"role": "user", "content": "Two\n\n\n\nparagraphs"},
            {"role": "assistant", "content": "Kept:\n\n\n\nas is \t"},
        ]
    ]
    bad = pa.array([[{"from": "bot", "value": "x"}]], array.type)
    with pytest.raises(ValueError, match="unknown role 'bot'"):
        as_messages(bad)


def _trainer_args(cls, tmp_path: Path, **extra):
    return cls(
        output_dir=str(tmp_path / "run"),
        max_steps=2,
        per_device_train_batch_size=2,
        max_length=128,
        report_to=["none"],
        save_strategy="no",
        logging_steps=1,
        use_cpu=True,
        **extra,
    )


def _trained(trainer) -> list[float]:
    result = trainer.train()
    losses = [h["loss"] for h in trainer.state.log_history if "loss" in h]
    assert result.global_step == 2 and len(losses) == 2 and all(loss > 0 for loss in losses)
    return losses


def test_trl_sft_trainer_trains_on_the_sft_config_as_written(sample_out, tiny_llama, tmp_path):
    from transformers import AutoTokenizer
    from trl import SFTConfig, SFTTrainer

    rows = load(sample_out, "sft", tmp_path)
    trainer = SFTTrainer(
        model=str(tiny_llama),
        args=_trainer_args(SFTConfig, tmp_path),
        train_dataset=rows,
        processing_class=AutoTokenizer.from_pretrained(tiny_llama),
    )
    # trl read it as prompt-completion: the loss covers the completion only.
    example = trainer.train_dataset[0]
    assert {"input_ids", "labels"} <= set(example)
    assert 0 < sum(label != -100 for label in example["labels"]) < len(example["input_ids"])
    _trained(trainer)


def test_trl_sft_trainer_trains_on_the_conversations_config(sample_out, tiny_llama, tmp_path):
    from transformers import AutoTokenizer
    from trl import SFTConfig, SFTTrainer

    tokenizer = AutoTokenizer.from_pretrained(tiny_llama)
    # The model's own chat template; here bagel's chatml one, as `bagel chat-template chatml --into` writes.
    chatml = load_plugins().get("format", "chatml").cls
    tokenizer.chat_template = chatml().chat_template()
    rows = load(sample_out, "conversations", tmp_path)
    trainer = SFTTrainer(
        model=str(tiny_llama), args=_trainer_args(SFTConfig, tmp_path), train_dataset=rows, processing_class=tokenizer
    )
    _trained(trainer)


def test_trl_dpo_trainer_trains_on_the_dpo_config_as_written(sample_out, tiny_llama, tmp_path):
    from transformers import AutoTokenizer
    from trl import DPOConfig, DPOTrainer

    rows = load(sample_out, "dpo", tmp_path)
    assert len(rows) >= 4
    trainer = DPOTrainer(
        model=str(tiny_llama),
        args=_trainer_args(DPOConfig, tmp_path),
        train_dataset=rows,
        processing_class=AutoTokenizer.from_pretrained(tiny_llama),
    )
    _trained(trainer)


# --- the dataset card ------------------------------------------------------------------------


def _card(out: Path):
    from huggingface_hub import DatasetCard

    return DatasetCard.load(out / "README.md", ignore_metadata_errors=False)


def test_card_header_validates_and_names_every_upstream(sample_out):
    from huggingface_hub import DatasetCardData

    card = _card(sample_out)
    data = DatasetCardData(**card.data.to_dict())  # round-trips through the Hub's own model
    manifest = json.loads((sample_out / "manifest.json").read_text())
    ids = {d for s in manifest["sources"].values() for d in s["dataset_ids"]}
    assert set(data.source_datasets) == ids and "lmsys/lmsys-chat-1m" not in ids
    # helpsteer and truthy-dpo are cc-by-4.0, mmlu mit, airoboros unverified: no single licence.
    assert data.license == "other" and data.license_name == "multiple-upstream-licenses"
    assert data.task_categories == ["text-generation"] and data.size_categories == ["n<1K"]
    assert "not-for-all-audiences" not in data.tags  # no toxic or gated source selected
    sft = next(i for i in data.dataset_info if i["config_name"] == "sft")
    (split,) = sft["splits"]
    assert (
        split["name"] == "train" and split["num_examples"] == manifest["totals"]["sft_rows"] and split["num_bytes"] > 0
    )
    assert (
        sft["download_size"] == (sample_out / "sft.parquet").stat().st_size
        and sft["dataset_size"] == split["num_bytes"]
    )
    # Every component of this run is English (the default of Loader.languages).
    assert data.language == ["en"] and data.multilinguality == ["monolingual"]
    assert data.license_link == "README.md#licences-and-terms"


def _load_warnings(out: Path, tmp_path: Path, caplog) -> list[str]:
    """Warnings (logged or Python's) of ``load_dataset`` on every config of ``out``."""
    import logging
    import warnings

    import datasets

    datasets.logging.set_verbosity_warning()
    caplog.clear()
    try:
        with caplog.at_level(logging.WARNING), warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always")
            for name in ("sft", "dpo", "conversations", "contamination", "near_duplicates"):
                load(out, name, tmp_path)
    finally:
        datasets.logging.set_verbosity_error()
    return [r.getMessage() for r in caplog.records if r.levelno >= logging.WARNING] + [str(w.message) for w in caught]


def test_load_dataset_reads_the_card_without_a_warning(sample_out, tmp_path, caplog):
    """A split without num_bytes made every load_dataset log "Ignoring part of dataset_info ...
    malformed"; nothing is logged or warned now."""
    import re
    import shutil

    assert _load_warnings(sample_out, tmp_path / "a", caplog) == []
    # The check can fail: the card as it was (splits without num_bytes) makes datasets warn.
    old = tmp_path / "old" / "out"
    shutil.copytree(sample_out, old)
    card = (old / "README.md").read_text()
    (old / "README.md").write_text(re.sub(r"\n *num_bytes: \d+", "", card))
    assert any("malformed" in w for w in _load_warnings(old, tmp_path / "b", caplog))


def test_card_languages_come_from_the_loaders(tmp_path):
    from bagel_core.card import language_fields
    from bagel_core.manifest import LoaderEntry

    registry = load_plugins()
    assert registry.get("source", "belebele").cls.languages == ("multilingual",)
    assert registry.get("source", "natural_instructions").cls.languages == ("en", "multilingual")
    assert registry.get("source", "slimorca").cls.languages == ("en",)
    out = tmp_path / "out"
    run(
        RunConfig(out=out, sources="belebele,mmlu", dpo="none", formats="vicuna", decontaminate="none", sample=True),
        load_plugins(),
    )
    card = _card(out)
    assert card.data.language == ["en", "multilingual"] and card.data.multilinguality == ["multilingual"]
    # A component with no rows in the output does not add its languages.
    written = {"rows_written": {"sft": 1, "dpo": 0}}
    entries = {
        "a": {**written, "languages": ["en"]},
        "b": {"rows_written": {"sft": 0, "dpo": 0}, "languages": ["multilingual"]},
    }
    assert language_fields(
        {name: LoaderEntry.from_json({"kind": "source", "loaded": 1, **e}, name) for name, e in entries.items()}
    ) == {"language": ["en"], "multilinguality": ["monolingual"]}


def test_card_body_licences_citations_recipe_and_usage(sample_out, tmp_path):
    import subprocess
    import sys
    import tomllib

    text = (sample_out / "README.md").read_text()
    assert "- **mmlu** (`mit`)" in text and "- **helpsteer** (`cc-by-4.0`)" in text
    assert "- **airoboros** (`unknown`): Licences of unalignment/spicy-3.1" in text
    assert "@inproceedings{hendrycks2021mmlu," in text and "@article{wang2023helpsteer," in text
    assert "No citation is given (or recorded) for: local, gutenberg, capybara, truthy-dpo, airoboros." in text
    assert "https://github.com/" not in text.replace("https://github.com/jondurbin/bagel", "")
    assert "Decontaminators ngram checked every SFT instruction and DPO prompt" in text and "| truthfulqa | 1 |" in text
    # No absolute path in the card: the usage snippet names the folder by its name, so it runs
    # from the folder holding it, wherever that is (here: a copy elsewhere, a fresh cache).
    assert str(sample_out.resolve()) not in text and str(tmp_path) not in text
    for section in ("## Intended use", "## Limitations and known biases", "## Example records"):
        assert section in text
    m = json.loads((sample_out / "manifest.json").read_text())
    upstream = {d for s in m["sources"].values() for d in s["dataset_ids"]}
    assert (
        text.split("---\n", 2)[2]
        .lstrip()
        .startswith(
            f"# bagel dataset\n\nA fine-tuning dataset composed by bagel from {len(upstream)} upstream datasets: {m['totals']['conversations_rows']:,} conversations"
        )
    )
    examples = text.split("## Example records", 1)[1].split("\n## ", 1)[0]
    assert all(f"`{name}`:" in examples for name in ("sft", "dpo", "conversations", "contamination"))
    first = pq.read_table(sample_out / "sft.parquet").slice(0, 1).to_pylist()[0]
    assert json.dumps(first["id"]) in examples
    import shutil

    moved = tmp_path / "moved" / sample_out.name
    shutil.copytree(sample_out, moved)
    snippet = text.split("```python\n", 1)[1].split("```", 1)[0]
    assert f"folder = {sample_out.name!r}" in snippet
    env = {**__import__("os").environ, "HF_DATASETS_CACHE": str(tmp_path / "hf"), "HF_HOME": str(tmp_path / "home")}
    done = subprocess.run(
        [sys.executable, "-c", snippet + "\nprint(len(sft), len(dpo), len(conversations))"],
        cwd=moved.parent,
        env=env,
        capture_output=True,
        text=True,
    )
    assert done.returncode == 0, done.stderr
    assert "Ignoring part of dataset_info" not in done.stderr
    manifest = json.loads((sample_out / "manifest.json").read_text())
    t = manifest["totals"]
    assert done.stdout.split() == [str(t["sft_rows"]), str(t["dpo_rows"]), str(t["conversations_rows"])]
    # The recipe in the card reruns the same output.
    recipe = tomllib.loads(text.split("```toml\n", 1)[1].split("```", 1)[0])
    assert set(recipe["run"]["sources"]) == {"local", "mmlu", "capybara", "gutenberg", "airoboros"}
    again = run(RunConfig(out=tmp_path / "again", **recipe["run"]), load_plugins())
    assert again.manifest.to_json()["totals"] == manifest["totals"]
    for name in ("sft.parquet", "dpo.parquet", "conversations.parquet"):
        assert pq.read_table(tmp_path / "again" / name).equals(pq.read_table(sample_out / name))


def test_card_warns_about_toxic_and_gated_sources(tmp_path):
    out = tmp_path / "out"
    run(
        RunConfig(
            out=out, sources="lmsys_chat_1m", dpo="toxic-dpo", formats="vicuna", decontaminate="none", sample=True
        ),
        load_plugins(),
    )
    card = _card(out)
    assert "not-for-all-audiences" in card.data.tags
    warning = card.text.split("## Content warning\n\n", 1)[1].split("\n## ", 1)[0]
    assert "**toxic-dpo**: Toxic by design" in warning and "**lmsys_chat_1m**: Real user conversations" in warning
    assert "LMSYS-Chat-1M Dataset License Agreement" in card.text
    # lmsys is "other" (an agreement), toxic-dpo cc-by-4.0.
    assert card.data.license == "other"


def test_card_license_is_the_shared_one_else_other():
    from bagel_core.card import card_license

    assert card_license(["mit", "mit"]) == ("mit", ["mit"])
    assert card_license(["mit", "cc-by-4.0"]) == ("other", ["cc-by-4.0", "mit"])
    assert card_license(["mit", "unknown"])[0] == "other"
    assert card_license(["mit", None]) == ("other", ["mit", "unknown"])
    assert card_license(["other"])[0] == "other"


def test_builtin_citations_are_single_well_formed_bibtex_entries():
    import re

    registry = load_plugins()
    for kind in ("source", "dpo_builder"):
        for name, info in registry.of(kind).items():
            citation = info.cls.citation
            if citation is None:
                continue
            assert re.match(r"^@(article|inproceedings|misc|book)\{[a-z0-9]+,\n", citation), name
            assert citation.count("{") == citation.count("}") and citation.rstrip().endswith("}"), name
            assert re.search(r"year = \{\d{4}\}", citation) and "title = {" in citation, name


def test_token_counts_per_source_and_format(tiny_llama, tmp_path):
    from transformers import AutoTokenizer

    out = tmp_path / "out"
    result = run(
        RunConfig(
            out=out,
            sources="capybara,mmlu",
            dpo="truthy-dpo",
            formats="vicuna,chatml",
            decontaminate="none",
            tokenizer=str(tiny_llama),
            sample=True,
        ),
        load_plugins(),
    )
    tokens = result.manifest.to_json()["tokens"]
    assert tokens["tokenizer"] == str(tiny_llama)
    # Counted independently, row by row.
    tok = AutoTokenizer.from_pretrained(tiny_llama)
    n = lambda text: len(tok(text, add_special_tokens=False)["input_ids"])
    for kind, columns in (("sft", ("prompt", "completion")), ("dpo", ("prompt", "chosen", "rejected"))):
        expected: dict = {}
        for row in pq.read_table(out / f"{kind}.parquet").to_pylist():
            entry = expected.setdefault(row["source"], {}).setdefault(
                row["format"], {"rows": 0, **{c: 0 for c in columns}}
            )
            entry["rows"] += 1
            for c in columns:
                entry[c] += n(row[c])
        assert tokens[kind] == expected
        assert tokens["totals"][kind]["rows"] == result.manifest.to_json()["totals"][f"{kind}_rows"]
    assert set(tokens["sft"]) >= {"capybara"} and set(tokens["sft"]["capybara"]) == {"vicuna", "chatml"}
    assert tokens["totals"]["sft"]["completion"] > 0 and tokens["totals"]["dpo"]["chosen"] > 0
    card = (out / "README.md").read_text()
    assert f"With the tokenizer `{tiny_llama}`" in card
    # Without --tokenizer there is nothing to count with.
    assert (
        "tokens"
        not in run(
            RunConfig(
                out=tmp_path / "plain", sources="mmlu", dpo="none", formats="vicuna", decontaminate="none", sample=True
            ),
            load_plugins(),
        ).manifest.to_json()
    )
