"""A format from a third-party plugin joins the built-in ones under ``--formats all``."""

from collections import Counter

import pyarrow.parquet as pq

from bagel_core import PromptFormat, hookimpl
from bagel_core.testing import registry_with, run_pipeline


class Shout(PromptFormat):
    name = "shout"
    description = "test format: the conversation in capitals"

    def render(self, messages):
        return "".join(f"{m['role'].upper()}: {m['content'].upper()}\n" for m in messages) + "ASSISTANT:"


class ShoutPlugin:
    @hookimpl
    def register_formats(self, register):
        register(Shout)


def test_third_party_format_is_picked_up_by_formats_all(tmp_path):
    registry = registry_with(("test-plugin", ShoutPlugin()))
    manifest = run_pipeline(
        tmp_path / "out",
        registry,
        sources="airoboros",
        dpo="helpsteer",
        formats="all",
        decontaminate="none",
        sample=True,
        copies_per_item=2,
    )
    # chat-template needs --tokenizer, so `all` leaves it out.
    assert manifest["formats"] == ["alpaca", "chatml", "llama-2", "shout", "vicuna"]
    sft = pq.read_table(tmp_path / "out" / "sft.parquet").to_pylist()
    shout = [r for r in sft if r["format"] == "shout"]
    assert shout and all(r["input"].endswith("ASSISTANT:") and r["input"] == r["input"].upper() for r in shout)
    # Every item in 2 of the 5 formats, each format within one item of an equal share.
    dealt = {(r["id"], r["format"]) for r in sft}
    per_item = Counter(i for i, _ in dealt)
    assert set(per_item.values()) == {2}
    share = len(per_item) * 2 / 5
    assert all(abs(n - share) < 1 for n in Counter(f for _, f in dealt).values())
    dpo = pq.read_table(tmp_path / "out" / "dpo.parquet").to_pylist()
    assert {r["format"] for r in dpo} <= set(manifest["formats"]) and len(dpo) == 2 * len({r["id"] for r in dpo})
