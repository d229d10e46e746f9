"""The one options layer: every setting is checked once, before any data is read, with one line
naming where, the key, the value and what is allowed; and the caps the engine owns."""

from __future__ import annotations

import json
from collections import Counter
from dataclasses import dataclass, field
from typing import Literal

import pyarrow.parquet as pq
import pytest
from click.testing import CliRunner

from bagel_core import Source, as_conversation, hookimpl
from bagel_core.cli import cli
from bagel_core.config import ConfigError, RunConfig, load_recipe, make_options
from bagel_core.options import build, parse_assignments
from bagel_core.pipeline import run
from bagel_core.rng import BottomK
from bagel_core.stages.load import Caps, LoadTask, run_load
from bagel_core.testing import load_sample, registry_with

TOY = dict(sources="toy-high,toy-low", dpo="toy-pairs", formats="vicuna,alpaca", decontaminate="none")


@dataclass
class _Opts:
    mode: Literal["fast", "exact"] = "fast"
    limit: int | None = field(default=None, metadata={"min": 1})
    rate: float = field(default=0.5, metadata={"min": 0.0, "max": 1.0})
    names: tuple[str, ...] = ()
    flag: bool = False


@pytest.mark.parametrize(
    "table, message",
    [
        ({"mode": "fsat"}, "where: mode = 'fsat' is not allowed; expected one of 'fast', 'exact'"),
        ({"limit": "ten"}, "where: limit = 'ten' is not allowed; expected int or \"none\""),
        ({"limit": 0}, "where: limit = 0 is below the minimum 1"),
        ({"rate": 1.5}, "where: rate = 1.5 is above the maximum 1.0"),
        ({"rate": True}, "where: rate = True is not allowed; expected a number"),
        ({"names": "abc"}, "where: names = 'abc' is not allowed; expected a list of str"),
        ({"flag": "yes"}, "where: flag = 'yes' is not allowed; expected bool"),
        ({"colour": 1}, "where: unknown option(s) ['colour']; options are ['flag', 'limit', 'mode', 'names', 'rate']"),
    ],
)
def test_each_kind_of_bad_value_names_key_value_and_allowed(table, message):
    with pytest.raises(ConfigError) as err:
        build("where", _Opts, table)
    assert str(err.value) == message


def test_good_values_are_coerced():
    opts = build("where", _Opts, {"mode": "exact", "limit": "none", "rate": 1, "names": ["a", "b"], "flag": True})
    assert (opts.mode, opts.limit, opts.rate, opts.names, opts.flag) == ("exact", None, 1.0, ("a", "b"), True)
    assert isinstance(opts.rate, float)
    assert parse_assignments(["source.x.max-items=5", "a.b.c=none", "k=[1, 2]", "s=plain text"]) == [
        ("source.x.max_items", 5),
        ("a.b.c", "none"),
        ("k", [1, 2]),
        ("s", "plain text"),
    ]


@pytest.mark.parametrize(
    "recipe, message",
    [
        ("[run\n", "is not valid TOML"),
        ("[run]\nsauces = 1\n", "unknown key(s) in [run]: ['sauces']"),
        ('[run]\nnum_proc = "2"\n', "[run]: num_proc = '2' is not allowed; expected int"),
        ("[run]\nsources = 5\n", "[run]: sources = 5 is not allowed; expected str or a list of str"),
        ('[run]\nseed = "abc"\n', "[run]: seed = 'abc' is not allowed; expected int"),
        ("[run]\nglobal_cap = 10\n", "global_cap and global_cap_sample go together"),
        ("[run]\nsource = 1\n", "unknown key(s) in [run]: ['source']"),
        ("source = 3\n", "source must be a table"),
    ],
)
def test_bad_recipes_fail_with_one_line(tmp_path, recipe, message):
    path = tmp_path / "r.toml"
    path.write_text(recipe)
    with pytest.raises(ConfigError) as err:
        RunConfig(**load_recipe(path))
    assert message in str(err.value) and "\n" not in str(err.value)


def _cli(args, toy_registry, monkeypatch):
    import bagel_core.registry

    monkeypatch.setattr(bagel_core.registry, "_CURRENT", toy_registry)
    return CliRunner().invoke(cli, args)


@pytest.mark.parametrize(
    "extra, recipe, message",
    [
        ([], "[source.doesnotexist]\npriority = 1\n", "unknown source 'doesnotexist'; available:"),
        ([], "[dpo.toy-pairs]\nmax_items = 0\n", "DPO builder 'toy-pairs': max_items = 0 is below the minimum 1"),
        (
            [],
            "[format.vicuna]\nsystem_prompt_probability = 2\n",
            "format 'vicuna': system_prompt_probability = 2 is above the maximum 1.0",
        ),
        (
            [],
            '[source.slimorca]\nrefusal_patterns = "v02"\n',
            "source 'slimorca': refusal_patterns = 'v02' is not allowed; expected one of 'v0.2', 'head'",
        ),
        (["--copies-per-item", "9"], "", "--copies-per-item must be between 1 and the number of formats (2), got 9"),
        (["--copies-per-item", "0"], "", "[run]: copies_per_item = 0 is below the minimum 1"),
        (["-o", "source.toy-high.colour=red"], "", "source 'toy-high': unknown option(s) ['colour']"),
        (["-o", "nonsense=1"], "", "-o nonsense: expected KIND.NAME.KEY"),
    ],
)
def test_bad_configuration_is_one_line_before_any_data_is_read(
    tmp_path, toy_root, toy_registry, monkeypatch, extra, recipe, message
):
    path = tmp_path / "r.toml"
    path.write_text(recipe)
    out = tmp_path / "out"
    args = [
        "run",
        "--recipe",
        str(path),
        "--data-root",
        str(toy_root),
        "--out",
        str(out),
        "-q",
        "--sources",
        TOY["sources"],
        "--dpo",
        TOY["dpo"],
        "--formats",
        TOY["formats"],
        *extra,
    ]
    result = _cli(args, toy_registry, monkeypatch)
    assert result.exit_code != 0
    assert message in result.output, result.output
    assert "Traceback" not in result.output and result.output.strip().count("\n") == 0
    assert not (out / ".bagel-work" / "load").exists()  # nothing was loaded


def test_options_of_every_recipe_table_are_checked_even_if_not_selected(tmp_path, toy_root, toy_registry):
    config = RunConfig(
        out=tmp_path / "o",
        data_root=toy_root,
        sources="toy-high",
        dpo="none",
        formats="vicuna",
        options={"source": {"toy-low": {"priority": "low"}}},
    )
    with pytest.raises(ConfigError, match="source 'toy-low': priority = 'low'"):
        run(config, toy_registry)


# --- caps ---------------------------------------------------------------------------------


class Numbers(Source):
    """A generated source of ``n`` distinct questions in ``k`` strata."""

    name = "numbers"
    description = "generated questions"
    dataset_ids = ("gen/numbers",)

    @dataclass
    class Options:
        n: int = 80_000
        strata: int = 3

    def rows(self, ctx):
        return ({"i": i, "group": f"g{i % self.options.strata if i % 10 else 0}"} for i in range(self.options.n))

    def convert(self, row, ctx):
        return as_conversation(self.name, f"What is {row['i']} plus one?", str(row["i"] + 1))


class StratifiedNumbers(Numbers):
    name = "numbers-strata"

    def stratum(self, row):
        return row["group"]


def _load(tmp_path, cls, caps, n=1000, seed=1):
    task = LoadTask(cls, cls.Options(n=n), seed, None, False, tmp_path / f"{cls.name}-{n}-{caps}.parquet", caps=caps)
    counts = run_load(task)
    return pq.read_table(task.shard).column("id").to_pylist(), counts


def test_global_cap_on_a_generated_source_of_80k_rows(tmp_path):
    ids, counts = _load(tmp_path, Numbers, Caps(global_cap=75_000, global_sample=50_000), n=80_000)
    assert len(ids) == 50_000 == counts.loaded and len(set(ids)) == 50_000
    assert counts.filtered == {"global cap": 30_000}
    # The seeded draw the docs promise: the 50,000 ids of lowest rank for (seed, "numbers:global cap").
    expected = BottomK(50_000, 1, "numbers:global cap")
    for i in range(80_000):
        expected.offer(as_conversation("numbers", f"What is {i} plus one?", "")["id"], i)
    assert set(ids) == {as_conversation("numbers", f"What is {i} plus one?", "")["id"] for i in expected.items()}
    # Below the threshold nothing is dropped, and a source cap applies first.
    ids, counts = _load(tmp_path, Numbers, Caps(global_cap=75_000, global_sample=50_000), n=74_999)
    assert len(ids) == 74_999 and not counts.filtered
    ids, counts = _load(tmp_path, Numbers, Caps(max_items=60_000, global_cap=60_000, global_sample=10), n=80_000)
    assert len(ids) == 10 and counts.filtered == {"cap": 20_000, "global cap": 59_990}


def test_caps_keep_upstream_order_and_do_not_depend_on_row_order(tmp_path):
    ids, counts = _load(tmp_path, Numbers, Caps(max_items=100), n=1000)
    assert len(ids) == 100 and counts.filtered == {"cap": 900}

    class Reversed(Numbers):
        name = "numbers"

        def rows(self, ctx):
            return reversed(list(super().rows(ctx)))

    again, _ = _load(tmp_path / "r", Reversed, Caps(max_items=100), n=1000)
    assert sorted(again) == sorted(ids) and again == list(reversed(ids))


def test_stratified_caps_share_or_bound_each_stratum(tmp_path):
    _, counts = _load(tmp_path, StratifiedNumbers, Caps(max_items=90), n=900)
    records, _ = load_sample(StratifiedNumbers, {"n": 900, "max_items": 90})
    numbers = [int(r["conversations"][0]["value"].split()[2]) for r in records]
    groups = Counter(f"g{i % 3}" if i % 10 else "g0" for i in numbers)
    # Strata of 360 (g0 also takes every tenth row), 270 and 270 rows keep their shares of 90.
    assert counts.filtered == {"cap": 810} and groups == {"g0": 36, "g1": 27, "g2": 27}
    per, counts = load_sample(
        type("PerStratum", (StratifiedNumbers,), {"cap_per_stratum": True}), {"n": 900, "max_items": 5}
    )
    assert len(per) == 15 and counts.filtered == {"cap": 885}


def test_recipe_max_items_overrides_and_none_uncaps(tmp_path):
    from bagel_sources_builtin.squad_v2 import SquadV2

    capped, counts = load_sample(SquadV2, {"max_items": 3})
    assert len(capped) == 3 and counts.filtered["cap"] > 0
    every, counts = load_sample(SquadV2, {"max_items": "none"})
    assert len(every) > 3 and "cap" not in counts.filtered
    with pytest.raises(ConfigError, match="max_items = 'all' is not allowed; expected int or \"none\""):
        load_sample(SquadV2, {"max_items": "all"})


def test_a_third_party_loader_gets_the_cap_through_a_run(tmp_path):
    class Plugin:
        @hookimpl
        def register_sources(self, register):
            register(Numbers)

    registry = registry_with(("numbers-plugin", Plugin()), strict=False)
    config = RunConfig(
        out=tmp_path / "o",
        sources="numbers",
        dpo="none",
        formats="vicuna",
        decontaminate="none",
        options={"source": {"numbers": {"n": 500, "max_items": 40}}},
    )
    manifest = run(config, registry).manifest
    assert manifest["sources"]["numbers"]["loaded"] == 40 and manifest["sources"]["numbers"]["filtered"] == {"cap": 460}
    loader = manifest["components"]["loaders"][0]
    assert loader["max_items"] == 40
    # Changing only the cap redoes the load (the cap is part of the fingerprint).
    config = RunConfig(
        out=tmp_path / "o",
        sources="numbers",
        dpo="none",
        formats="vicuna",
        decontaminate="none",
        options={"source": {"numbers": {"n": 500, "max_items": 50}}},
    )
    assert run(config, registry).manifest["sources"]["numbers"]["loaded"] == 50
    assert json.loads((tmp_path / "o" / "manifest.json").read_text())["totals"]["loaded"] == 50


def test_loader_options_may_not_shadow_engine_keys():
    class Bad(Numbers):
        name = "bad"

        @dataclass
        class Options:
            max_items: int = 3

    with pytest.raises(ConfigError, match="Options may not define \\['max_items'\\]"):
        make_options(Bad, {})


def test_setup_runs_once_before_rows(tmp_path):
    calls = []

    class WithSetup(Numbers):
        name = "with-setup"

        def setup(self, ctx):
            calls.append("setup")
            self.offset = 1000

        def convert(self, row, ctx):
            calls.append("convert")
            return as_conversation(self.name, f"q{row['i'] + self.offset}", "a")

    records, _ = load_sample(WithSetup, {"n": 3})
    assert calls == ["setup", "convert", "convert", "convert"]
    assert [r["conversations"][0]["value"] for r in records] == ["q1000", "q1001", "q1002"]


def test_invalid_records_keep_their_first_example_through_a_capped_load(tmp_path):
    class WithEmpty(Numbers):
        name = "with-empty"

        def convert(self, row, ctx):
            return as_conversation(self.name, f"q{row['i']}", "" if row["i"] == 3 else "a")

    task = LoadTask(WithEmpty, WithEmpty.Options(n=10), 1, None, False, tmp_path / "s.parquet", caps=Caps(max_items=5))
    counts = run_load(task)
    assert counts.loaded == 5 and counts.rejected == {"empty text": 1} and counts.filtered == {"cap": 4}
    example = counts.examples["empty text"]
    assert example["at"] == "row 3" and "'source': 'with-empty'" in example["row"]
