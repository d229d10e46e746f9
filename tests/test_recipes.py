"""The shipped recipes select exactly the sources of the seed cards they reproduce."""

from pathlib import Path

import pytest

from bagel_core.config import RunConfig, load_recipe, loader_settings, make_options, select
from bagel_core.registry import TABLES, load_plugins

RECIPES = Path(__file__).resolve().parents[1] / "recipes"

# ../shared/seeds/001_8ae7ccf39c31a7d6.txt (jondurbin/bagel-dpo-7b-v0.1), "SFT data sources".
V01_SFT = [
    "ai2_arc",
    "airoboros",
    "apps",
    "belebele",
    "boolq",
    "cinematika",
    "drop",
    "gutenberg",
    "lmsys_chat_1m",
    "mathinstruct",
    "mmlu",
    "natural_instructions",
    "openbookqa",
    "piqa",
    "python_alpaca",
    "rosetta_code",
    "slimorca",
    "spider",
    "squad_v2",
    "synthia",
    "winogrande",
]
# ../shared/seeds/000_f90190e84cccf64f.txt, 002_06b01832caac840c.txt (bagel-8x7b-v0.2) and
# 003_f912c36d23197989.txt (bagel-dpo-8x7b-v0.2), "Data sources": v0.1's plus four.
V02_SFT = sorted(V01_SFT + ["bluemoon", "capybara", "emobank", "pippa"])
# "DPO data sources" of cards 001 and 003 (airoboros 3.1 vs 2.2.1, helpsteer, orca_dpo_pairs,
# toxic-dpo, truthy, ultrafeedback), plus lmsys_chat_1m, which the SFT list says is "also
# used for DPO" (SOURCES.md §3.3).
DPO = [
    "airoboros-rewrites",
    "helpsteer",
    "lmsys-chat-1m-dpo",
    "orca-dpo-pairs",
    "toxic-dpo",
    "truthy-dpo",
    "ultrafeedback",
]
FORMATS = ["alpaca", "vicuna", "llama-2", "chatml"]
# The reference at 3c7d241 (bagel-raw-v0.5): v0.2's less drop, gutenberg (moved into
# gutenberg-dpo), winogrande (unregistered) and spider (replaced by sql), plus the later sources
# and summarization (split out of airoboros-3.2); mmlu stays (re-added at 07859b4, issue 28).
V05_SFT = sorted(
    set(V02_SFT) - {"drop", "gutenberg", "winogrande", "spider"}
    | {
        "camelai",
        "comedy_snippets",
        "evol_instruct",
        "glaive_func",
        "limarp",
        "ropes",
        "sql",
        "summarization",
        "whiterabbitneo",
    }
)
V05_DPO = sorted(DPO + ["contextual-dpo", "gutenberg-dpo", "py-dpo"])


@pytest.mark.parametrize("recipe, sft", [("bagel-v0.1.toml", V01_SFT), ("bagel-v0.2.toml", V02_SFT)])
def test_recipe_selects_the_cards_sources(recipe, sft):
    values = load_recipe(RECIPES / recipe)
    assert values["sources"] == sorted(sft)
    assert values["dpo"] == DPO
    assert values["formats"] == FORMATS
    assert values["decontaminate"] == ["embedding"]
    # The cards' dataset versions where a component offers several.
    assert values["options"]["dpo_builder"]["orca-dpo-pairs"]["variant"] == "intel"
    assert values["options"]["dpo_builder"]["toxic-dpo"] == {"version": "v0.1", "same_responses": "exact"}


def test_v05_recipe_selects_the_reference_heads_mixture():
    values = load_recipe(RECIPES / "bagel-v0.5.toml")
    assert values["sources"] == V05_SFT
    assert values["dpo"] == V05_DPO
    # The reference's formatter order, which its 75% chunks are cut by (issue 28, row 9).
    assert values["formats"] == ["alpaca", "vicuna", "chatml", "llama-2"]
    assert (values["copies_per_item"], values["format_assignment"]) == (3, "chunks")  # 3-of-4 chunking
    # gutenberg-dpo and py-dpo compared nothing: identical pairs kept (issue 28).
    assert values["keep_identical_pairs"] == ["gutenberg-dpo", "py-dpo"]
    assert all(values["options"]["dpo_builder"][b]["same_responses"] == "none" for b in ("gutenberg-dpo", "py-dpo"))
    options = values["options"]
    assert options["format"]["chatml"]["variant"] == "v0.5"  # its strings: test_formats_reference.py
    assert all(options["format"][f]["system_prompt_probability"] == 0.5 for f in ("llama-2", "vicuna", "chatml"))
    assert options["dpo_builder"]["toxic-dpo"] == {"version": "v0.2", "sft_copy": True, "same_responses": "exact"}
    assert "orca-dpo-pairs" not in options["dpo_builder"] or "variant" not in options["dpo_builder"]["orca-dpo-pairs"]
    assert options["source"]["mmlu"] == {"max_items": 50_000}  # HEAD: seeded 50,000
    assert (values["newlines"], values["dpo_chosen_newlines"]) == ("blank-line-runs", True)  # DPO chosen too
    cinematika = options["source"]["cinematika"]
    assert cinematika["conversation_files"] == ["memories", "director", "actions"] and cinematika["part_labels"]


@pytest.mark.parametrize("recipe", ["bagel-v0.1.toml", "bagel-v0.2.toml"])
def test_recipe_rules_resolve_as_documented(recipe):
    """The reference's rules at that version, as docs/fidelity.md and the recipe comments say."""
    config = RunConfig(**load_recipe(RECIPES / recipe))
    assert (config.newlines, config.dedup_scope, config.dpo_only) == ("none", "shared", ["lmsys-chat-1m-dpo"])
    if recipe == "bagel-v0.1.toml":
        assert (config.copies_per_item, config.format_assignment) == (None, "spread")  # every format
    else:
        assert (config.copies_per_item, config.format_assignment) == (1, "random")  # one drawn per item
    registry = load_plugins()
    formats = {name: make_options(registry.get("format", name).cls, config.options["format"][name]) for name in FORMATS}
    assert {n: o.whitespace for n, o in formats.items()} == dict.fromkeys(FORMATS, "reference")
    assert formats["alpaca"].layout == "reference"
    assert [formats[n].system_prompt_probability for n in ("vicuna", "llama-2", "chatml")] == [0.35, 0.15, 0.15]
    # The reference's case-sensitive refusal matching wherever a refusal filter applies.
    refusal = {
        (kind, name) for kind, tables in config.options.items() for name, t in tables.items() if "refusal_patterns" in t
    }
    expected = {("source", n) for n in ("slimorca", "synthia", "python_alpaca", "lmsys_chat_1m")}
    expected |= {("dpo_builder", n) for n in ("helpsteer", "lmsys-chat-1m-dpo", "ultrafeedback", "orca-dpo-pairs")}
    if recipe == "bagel-v0.2.toml":
        expected.add(("source", "pippa"))
        assert config.options["source"]["pippa"]["keep_probability"] == 0.5
    assert refusal == expected
    assert all(config.options[k][n]["refusal_patterns"] == "v0.2-reference" for k, n in refusal)


# The caps of each version, checked in the reference (docs/fidelity.md): v0.1 had none of v0.2's
# but natural_instructions' 100,000; v0.2 adds the global cap (75,000 -> a 50,000 sample).
CAPS = {
    "bagel-v0.1.toml": {"natural_instructions": 100_000},
    "bagel-v0.2.toml": {
        "drop": 5_000,
        "mmlu": 20_000,
        "squad_v2": 25_000,
        "winogrande": 10_000,
        "mathinstruct": 50_000,
        "natural_instructions": 50_000,
        "rosetta_code": 25_000,
        "slimorca": 100_000,
        "synthia": 15_000,
        "belebele": 300,
    },
}


@pytest.mark.parametrize("recipe", ["bagel-v0.1.toml", "bagel-v0.2.toml"])
def test_recipe_caps_resolve_to_the_versions_caps(recipe):
    config = RunConfig(**load_recipe(RECIPES / recipe))
    registry = load_plugins()
    caps = {}
    for kind, names in (("source", config.sources), ("dpo_builder", config.dpo)):
        for name in names:
            cls = registry.get(kind, name).cls
            settings = loader_settings(cls, config.options.get(kind, {}).get(name, {}))
            if settings.max_items is not None:
                caps[name] = settings.max_items
    assert caps == CAPS[recipe]
    assert registry.get("source", "belebele").cls.cap_per_stratum  # 300 per language variant
    if recipe == "bagel-v0.1.toml":
        assert (config.global_cap, config.global_cap_sample) == (None, None)
    else:
        assert (config.global_cap, config.global_cap_sample) == (75_000, 50_000)


@pytest.mark.parametrize("recipe", ["bagel-v0.1.toml", "bagel-v0.2.toml", "bagel-v0.5.toml"])
def test_recipe_components_are_registered_and_options_valid(recipe):
    values = load_recipe(RECIPES / recipe)
    registry = load_plugins()
    selections = {
        "source": values["sources"],
        "dpo_builder": values["dpo"],
        "format": values["formats"],
        "decontaminator": values["decontaminate"],
    }
    missing = sorted(
        f"{kind} {name}" for kind, names in selections.items() for name in names if name not in registry.of(kind)
    )
    assert missing == [], f"{recipe} names components no plugin registers"
    for kind, names in selections.items():
        assert select(registry, kind, names) == names
    assert select(registry, "benchmark", values["benchmarks"])
    for kind, tables in values["options"].items():
        assert kind in {k.name for k in TABLES.values()}
        for name, table in tables.items():
            make_options(registry.get(kind, name).cls, table)


@pytest.mark.parametrize("recipe", ["bagel-v0.1.toml", "bagel-v0.2.toml"])
def test_recipe_runs_on_the_samples_with_the_references_rules(tmp_path, recipe):
    """The whole recipe through ``bagel run --sample`` (decontamination off: no model here)."""
    import pyarrow.parquet as pq

    from bagel_core.pipeline import run
    from bagel_core.rendering import PLAIN_TEXT

    values = load_recipe(RECIPES / recipe)
    config = RunConfig(**{**values, "sample": True, "decontaminate": "none", "out": tmp_path / "out"})
    manifest = run(config, load_plugins()).manifest.to_json()
    sft = pq.read_table(
        tmp_path / "out" / "sft.parquet", columns=["id", "source", "format", "prompt", "completion"]
    ).to_pylist()
    dpo = pq.read_table(tmp_path / "out" / "dpo.parquet", columns=["id", "source", "format", "prompt"]).to_pylist()
    texts = [r for r in sft if r["format"] == PLAIN_TEXT]
    assert texts and len({r["id"] for r in texts}) == len(texts)  # each plain text once
    formats_of = {}
    for is_pair, part in ((False, sft), (True, dpo)):
        for r in part:
            if r["format"] != PLAIN_TEXT:
                formats_of.setdefault((is_pair, r["id"]), set()).add(r["format"])
    # v0.1: every item in all four formats; v0.2: one format per item.
    assert {len(f) for f in formats_of.values()} == ({4} if recipe == "bagel-v0.1.toml" else {1})
    alpaca = [r["prompt"] for r in sft if r["format"] == "alpaca"]
    assert alpaca and all("### Instruction: \n" in i for i in alpaca)  # the reference's header
    # The reference left-strips the answer; vicuna's completion then begins with the one space its
    # prompt ended with (the token boundary, docs/formats.md).
    answers = [r["completion"][1:] if r["format"] == "vicuna" else r["completion"] for r in sft]
    assert all(not a[:1].isspace() for a, r in zip(answers, sft) if r["format"] in ("alpaca", "vicuna", "chatml"))
    assert all(r["completion"].startswith(" ") for r in sft if r["format"] == "vicuna")
    # One known-id set across SFT and DPO: an id is both an SFT item and a DPO pair only as one
    # record in two shapes (the same source label).
    labels = {r["id"]: r["source"] for r in sft}
    assert all(labels[r["id"]] == r["source"] for r in dpo if r["id"] in labels)
    assert manifest["config"]["dedup_scope"] == "shared"


@pytest.mark.parametrize("recipe", ["bagel-v0.1.toml", "bagel-v0.2.toml", "bagel-v0.5.toml"])
def test_recipe_decontaminates_with_the_references_query_and_length_rules(tmp_path, recipe):
    """The reference (every version) embedded the first human turn or the DPO prompt only and
    matched when |len(query) - len(benchmark)| / len(query) <= 0.2 (issue 28, row 11)."""
    from bagel_core.builtin.decontaminate.embedding import EmbeddingDecontaminator
    from bagel_core.builtin.decontaminate.query_text import query_views
    from bagel_core.components import Query

    config = RunConfig(**load_recipe(RECIPES / recipe))
    assert config.decontaminate == ["embedding"]
    options = make_options(EmbeddingDecontaminator, config.options["decontaminator"]["embedding"])
    query = Query("id", "src", "What is 2 + 2?", ("What is 2 + 2?", "And 3 + 3, in words " * 20), ("4", "six"))
    views = query_views(query, options.query_text, options.answers, options.windows, options.docstrings)
    assert [(v.name, v.text) for v in views] == [("turn1", "What is 2 + 2?")]
    # bagel's docstring views (issue 23) are off too: the reference embedded the turn as it was.
    program = 'def add(a, b):\n    """Return the sum of two numbers a and b."""\n    return a + b\n'
    assert not options.docstrings
    assert [
        v.name
        for v in query_views(
            Query("c", "src", program, (program,)),
            options.query_text,
            options.answers,
            options.windows,
            options.docstrings,
        )
    ] == ["turn1"]
    decontaminator = EmbeddingDecontaminator(options, cache_dir=tmp_path)
    question = "x" * 100
    assert decontaminator._lengths_close(question, "y" * 80) and decontaminator._lengths_close(question, "y" * 120)
    assert not decontaminator._lengths_close(question, "y" * 79) and not decontaminator._lengths_close(
        question, "y" * 121
    )
