"""bagel_core.testing's checks fail on broken components, naming what is wrong, and pass on
the built-in ones; its helpers give what a run gives."""

from dataclasses import dataclass

import pytest

from bagel_core import ConfigError, Deduper, Duplicate, Trainer
from bagel_core.builtin.dedup.exact import ExactDeduper
from bagel_core.builtin.dedup.minhash import MinHashDeduper
from bagel_core.builtin.train.sft import SFT
from bagel_core.testing import (
    check_deduper,
    check_trainer,
    invoke_cli,
    load_context,
    options_of,
    render_dpo,
    render_sft,
    select_names,
)


def test_check_deduper_passes_the_builtin_exact_and_minhash():
    check_deduper(ExactDeduper)
    check_deduper(MinHashDeduper)  # the semantic one passes too (its model takes ~30 s to load)


class _Collect(Deduper):
    name = "collect"
    description = "keeps every text's positions, reports by a rule of the subclass"

    def __init__(self, options=None, cache_dir=None):
        super().__init__(options, cache_dir)
        self.seen = {}

    def add(self, batch):
        for position, text in zip(batch.positions, batch.texts):
            self.seen.setdefault(text, []).append(position)


class KeepsLast(_Collect):
    name = "keeps-last"

    def duplicates(self):
        return [Duplicate(p[0], p[-1], 1.0) for p in self.seen.values() if len(p) > 1]


class WithinBatch(_Collect):
    name = "within-batch"

    def add(self, batch):  # forgets the earlier batches: misses copies across them
        self.seen = {}
        super().add(batch)

    def duplicates(self):
        return [Duplicate(p[-1], p[0], 1.0) for p in self.seen.values() if len(p) > 1]


class Percent(_Collect):
    name = "percent"

    def duplicates(self):
        return [Duplicate(p[-1], p[0], 100.0) for p in self.seen.values() if len(p) > 1]


@pytest.mark.parametrize(
    "cls, message",
    [
        (KeepsLast, r"keeps-last: Duplicate\(position=0, kept=3.*must point to an earlier item"),
        (WithinBatch, r"within-batch: expected items 3 and 4 as copies of 0 and 1, got \[\]"),
        (Percent, r"percent: similarity 100.0 is not in 0..1"),
    ],
)
def test_check_deduper_names_what_is_wrong(cls, message):
    with pytest.raises(AssertionError, match=message):
        check_deduper(cls)


def test_check_trainer_on_the_builtin_sft_and_on_broken_trainers():
    check_trainer(SFT)  # its --help has a flag per option; nothing heavy is run

    class Lazy(Trainer):
        name = "lazy"
        description = "forgets to train"

    with pytest.raises(AssertionError, match="lazy: a trainer must override train"):
        check_trainer(Lazy)

    class Failing(Trainer):
        name = "failing"
        description = "fails on its data"

        @dataclass
        class Options:
            data: str = "missing.parquet"

        def train(self):
            raise ConfigError(f"{self.options.data}: no such file")

    with pytest.raises(AssertionError, match=r"(?s)failing: bagel train failing --data nope.parquet failed.*nope"):
        check_trainer(Failing, ["--data", "nope.parquet"])


def test_helpers_give_what_a_run_gives():
    from bagel_formats_builtin.vicuna import Vicuna
    from bagel_sources_builtin.airoboros import Airoboros

    ctx = load_context(Airoboros, sample=True)
    rows = list(Airoboros(ctx.options).rows(ctx))
    assert rows and ctx.sample and ctx.options == Airoboros.Options()
    with pytest.raises(ConfigError, match="airoboros.*colour"):
        options_of(Airoboros, {"colour": "blue"})
    turns = [{"from": "human", "value": "Hi?"}, {"from": "gpt", "value": "Hello."}]
    (row,) = render_sft([Vicuna(Vicuna.Options(system_prompt_probability=0.0))], turns, item_id="a")
    assert row == {
        "id": "a",
        "source": "test",
        "format": "vicuna",
        "input": "USER: Hi?\nASSISTANT: ",
        "output": "Hello.",
    }
    (pair,) = render_dpo([Vicuna(Vicuna.Options(system_prompt_probability=0.0))], "Hi?", "Hello.", "Go away.")
    assert pair["prompt"] == "USER: Hi?\nASSISTANT: " and pair["rejected"] == "Go away."
    assert select_names("format", "vicuna,chatml") == ["vicuna", "chatml"]  # in the order given
    assert "vicuna" in invoke_cli("list-plugins").output
