"""How the trainers turn bagel's rows into token ids: the eval split by item, the prompt a
token prefix of prompt + completion in every format (what inference feeds the model), the
multi-turn masks token by token, and the length limit."""

from __future__ import annotations

import json

import datasets
import pandas as pd
import pytest

from bagel_core import registry
from bagel_core.builtin.train import common as train_common
from bagel_core.builtin.train import data as train_data
from bagel_core.builtin.train.dpo import DPO
from bagel_core.builtin.train.sft import SFT
from bagel_core.rendering import at_token_boundary

FORMATS = ["alpaca", "vicuna", "llama-2", "chatml"]
CONVERSATION = [
    {"role": "system", "content": "Be brief."},
    {"role": "user", "content": "What is the capital of France?"},
    {"role": "assistant", "content": "The capital of France is Paris."},
    {"role": "user", "content": "Name three primary colors."},
    {"role": "assistant", "content": "Red, blue and yellow."},
]


def sft_rows(out) -> datasets.Dataset:
    rows = train_common.read_rows(str(out), "sft.parquet")
    return train_common.select_rows(
        rows, SFT.columns, SFT(SFT.Options(model="m")).usable, "sft", keep_columns=["id", "format"]
    )


def test_train_data_eval_split_keeps_items_whole(bagel_sample_out):
    rows = sft_rows(bagel_sample_out)
    train, held, eval_ids = train_data.split_by_item(rows, 0.1, seed=42)
    train_ids, held_ids = set(train["id"]), set(held["id"])
    assert not train_ids & held_ids  # the row split leaked 100%: every eval item had rows in train
    assert held_ids == set(eval_ids) and len(eval_ids) == round(0.1 * len(set(rows["id"])))
    assert len(train) + len(held) == len(rows)
    # Every row of an eval item is held out (all its formats and turns).
    assert sum(1 for i in rows["id"] if i in held_ids) == len(held)
    # Deterministic from the seed, not from the row order; another seed draws other items.
    shuffled = rows.shuffle(seed=1)
    assert train_data.split_by_item(shuffled, 0.1, seed=42)[2] == eval_ids
    assert train_data.split_by_item(rows, 0.1, seed=7)[2] != eval_ids
    with pytest.raises(train_data.DataError, match="leaves no training item"):
        train_data.eval_items(["a", "b"], 0.9, 0)


#: Every built-in format, and the variants the recipes use.
VARIANTS = [(name, {}) for name in FORMATS] + [
    ("alpaca", {"layout": "reference"}),
    ("alpaca", {"layout": "reference-v0.5"}),
    ("chatml", {"im_markers": True}),
    ("chatml", {"variant": "v0.5"}),
]


@pytest.mark.parametrize("fmt_name, options", VARIANTS)
def test_train_data_prompt_is_the_inference_token_prefix(tiny_llama, fmt_name, options):
    """For every format and turn: the trained sequence starts with exactly the tokens
    ``apply_chat_template(..., add_generation_prompt=True)`` gives with the saved template,
    and continues with the answer's tokens and EOS."""
    from bagel_core.config import make_options

    tokenizer = train_common.load_tokenizer(str(tiny_llama), fmt_name)
    tokenizer.chat_template = train_common.chat_template(fmt_name, tokenizer, options)
    cls = registry.current().get("format", fmt_name).cls
    fmt = cls(make_options(cls, options), special=train_common.special_tokens(tokenizer))
    for turn in (2, 4):
        history, answer = CONVERSATION[:turn], CONVERSATION[turn]["content"]
        prompt = fmt.render(history)  # what `bagel run` writes as the row's input
        ids, mask = train_data.sft_single(tokenizer, prompt, answer)
        inference = tokenizer.apply_chat_template(history, add_generation_prompt=True, tokenize=True, return_dict=True)[
            "input_ids"
        ]
        assert ids[: len(inference)] == list(inference)
        assert mask == [0] * len(inference) + [1] * (len(ids) - len(inference))
        # The answer as trained: vicuna's trailing space begins it (the prompt is cut before it).
        assert tokenizer.decode(ids[len(inference) :]) == at_token_boundary(prompt, answer)[1] + tokenizer.eos_token


def test_train_data_vicuna_rows_are_cut_on_a_token_boundary(tiny_llama, bagel_sample_out):
    """vicuna's input ends with a space that, tokenized as one string with the answer, merges
    into the answer's first token (trl's way), so the input's own tokens are not a prefix.
    Cut before that space, the prompt's tokens are a prefix of prompt + answer's, and tokenizing
    apart (bagel's way) gives the same ids: the prompt, then the answer's tokens and EOS."""
    tokenizer = train_common.load_tokenizer(str(tiny_llama), "vicuna")
    rows = sft_rows(bagel_sample_out).filter(lambda r: r["format"] == "vicuna")
    merging = 0
    for row in rows:
        # The format's own cut (the reference's input/output): the space ends the input.
        raw_prompt, raw_answer = row["prompt"] + " ", row["completion"][1:]
        input_ids = tokenizer(raw_prompt)["input_ids"]
        joint = tokenizer(raw_prompt + raw_answer)["input_ids"]
        merging += joint[: len(input_ids)] != input_ids
        prompt, completion = at_token_boundary(raw_prompt, raw_answer)
        assert (prompt, completion) == (row["prompt"], row["completion"])  # as sft.parquet holds them
        prompt_ids = tokenizer(prompt)["input_ids"]
        ids, mask = train_data.sft_single(tokenizer, raw_prompt, raw_answer)
        assert ids == joint + [tokenizer.eos_token_id] and mask.index(1) == len(prompt_ids)
        assert joint[: len(prompt_ids)] == prompt_ids
    assert merging > 0  # 25 of 178 with the tiny tokenizer; most rows with a real one (issue 15: 162 of 172)


def test_train_data_dpo_pairs_keep_the_prompt_tokens(tiny_llama, bagel_sample_out):
    tokenizer = train_common.load_tokenizer(str(tiny_llama), "vicuna")
    rows = train_common.select_rows(
        train_common.read_rows(str(bagel_sample_out), "dpo.parquet"),
        DPO.columns,
        DPO(DPO.Options(model="m")).usable,
        "dpo",
    )
    table, report = train_data.pair_dataset(
        rows, tokenizer, max_length=4096, max_prompt_length=None, over_length="drop"
    )
    assert report.over == 0 and len(table) == len(rows)
    for row, pair in zip(rows, table):
        assert pair["prompt_ids"] == tokenizer(row["prompt"])["input_ids"]
        assert tokenizer.decode(pair["chosen_ids"]) == row["chosen"] + tokenizer.eos_token
        assert tokenizer.decode(pair["rejected_ids"]) == row["rejected"] + tokenizer.eos_token


@pytest.mark.parametrize("fmt_name", FORMATS)
def test_train_data_multi_turn_masks_token_by_token(tiny_llama, bagel_sample_out, fmt_name):
    tokenizer = train_common.load_tokenizer(str(tiny_llama), fmt_name, str(bagel_sample_out))
    check_multi_turn(tokenizer, sft_rows(bagel_sample_out).filter(lambda r: r["format"] == fmt_name))


def test_train_data_multi_turn_chatml_v05(tiny_llama, tmp_path):
    """chatml v0.5 writes the first BOS itself: one BOS, and the same masks."""
    from click.testing import CliRunner

    from bagel_core.cli import cli

    recipe = tmp_path / "recipe.toml"
    recipe.write_text('[format.chatml]\nvariant = "v0.5"\n')
    out = tmp_path / "out"
    result = CliRunner().invoke(
        cli,
        [
            "run",
            "--recipe",
            str(recipe),
            "--sample",
            "--sources",
            "slimorca,capybara",
            "--dpo",
            "none",
            "--formats",
            "chatml",
            "--decontaminate",
            "none",
            "--out",
            str(out),
            "-q",
        ],
    )
    assert result.exit_code == 0, result.output
    tokenizer = train_common.load_tokenizer(str(tiny_llama), "chatml", str(out))
    rows = sft_rows(out)
    assert rows[0]["prompt"].startswith("<s>")
    check_multi_turn(tokenizer, rows)


def check_multi_turn(tokenizer, rows) -> None:
    fmt_name = rows[0]["format"]
    per_item = pd.Series(rows["id"]).value_counts()
    multi = set(per_item[per_item > 1].index)
    assert multi  # the samples hold multi-turn items
    table, report = train_data.sft_dataset(rows, tokenizer, max_length=4096, over_length="drop", multi_turn=True)
    assert len(table) == len(set(rows["id"])) and report.over == 0  # one sequence per item
    eos = tokenizer.eos_token
    for item in multi:
        turns = sorted((r for r in rows if r["id"] == item), key=lambda r: len(r["prompt"]))
        seq = next(r for r in table if r["id"] == item)
        ids, mask = seq["input_ids"], seq["completion_mask"]
        # The whole conversation, as the last turn's prompt + answer + EOS.
        bos = "" if turns[-1]["prompt"].startswith(tokenizer.bos_token) else tokenizer.bos_token
        assert tokenizer.decode(ids) == bos + turns[-1]["prompt"] + turns[-1]["completion"] + eos
        # Token by token: the runs of trained tokens are the answers (each with the EOS the
        # format writes after it in the history), everything else is masked.
        runs, run = [], []
        for token, bit in zip(ids, mask):
            if bit:
                run.append(token)
            elif run:
                runs.append(tokenizer.decode(run))
                run = []
        runs.append(tokenizer.decode(run))
        assert len(runs) == len(turns)
        for text, turn in zip(runs, turns):
            assert turn["completion"] in text
            extra = text.replace(turn["completion"], "", 1)
            assert extra.strip() in ("", eos), (fmt_name, text)
        assert runs[-1].endswith(eos)
        # Each turn's context is the inference prompt and the whitespace the format writes
        # before an answer in the history (llama-2's space after [/INST]), up to the token the
        # boundary shares (a space before the answer can merge into its first token).
        full = turns[-1]["prompt"] + turns[-1]["completion"]
        starts = [i for i, bit in enumerate(mask) if bit and (i == 0 or not mask[i - 1])]
        for start, turn in zip(starts, turns):
            at = full.index(turn["completion"], len(turn["prompt"]))
            assert not full[len(turn["prompt"]) : at].strip()
            context = train_data.encode_prompt(tokenizer, full[:at])
            merged = full[at - 1] == " " and ids[:start] == context[:-1]
            assert ids[:start] == context or merged


def test_train_data_multi_turn_costs_fewer_tokens(tiny_llama, bagel_sample_out):
    tokenizer = train_common.load_tokenizer(str(tiny_llama), "chatml")
    rows = sft_rows(bagel_sample_out).filter(lambda r: r["format"] == "chatml")
    single, _ = train_data.sft_dataset(rows, tokenizer, max_length=4096, over_length="drop")
    multi, _ = train_data.sft_dataset(rows, tokenizer, max_length=4096, over_length="drop", multi_turn=True)
    tokens = lambda t: sum(map(len, t["input_ids"]))
    trained = lambda t: sum(map(sum, t["completion_mask"]))
    assert tokens(multi) < tokens(single)
    # Every answer and its EOS is still trained once; chatml writes "\n" before the EOS that
    # ends an earlier turn in the history, one more trained token per earlier turn.
    assert trained(multi) - trained(single) == len(single) - len(multi) > 0


def test_train_data_over_length_rows_are_counted(tiny_llama, bagel_sample_out):
    tokenizer = train_common.load_tokenizer(str(tiny_llama), "llama-2")
    rows = sft_rows(bagel_sample_out)
    lengths = [len(train_data.sft_single(tokenizer, r["prompt"], r["completion"])[0]) for r in rows]
    over = sum(n > 64 for n in lengths)
    assert 0 < over < len(rows)
    dropped, report = train_data.sft_dataset(rows, tokenizer, max_length=64, over_length="drop")
    assert (report.rows, report.over, report.dropped, report.truncated) == (len(rows), over, over, 0)
    assert len(dropped) == len(rows) - over
    cut, report = train_data.sft_dataset(rows, tokenizer, max_length=64, over_length="truncate")
    assert report.over == over and report.truncated + report.dropped == over and report.truncated > 0
    assert len(cut) == len(rows) - report.dropped and max(map(len, cut["input_ids"])) == 64
    assert all(any(m) for m in cut["completion_mask"])  # a dropped row is one whose prompt alone fills 64
    assert "rows longer than --max-length 64" in report.line("sft train")


def test_train_data_pairs_over_length_keep_the_prompt_end(tiny_llama):
    tokenizer = train_common.load_tokenizer(str(tiny_llama), "vicuna")
    prompt = "Red, blue and yellow. " * 20 + "USER: What is the capital of France?\nASSISTANT: "
    rows = datasets.Dataset.from_list([{"prompt": prompt, "chosen": "Paris.", "rejected": "Rome, I think."}])
    table, report = train_data.pair_dataset(
        rows, tokenizer, max_length=40, max_prompt_length=24, over_length="truncate"
    )
    pair = table[0]
    assert report.truncated == 1 and len(pair["prompt_ids"]) == 24
    # BOS stays first; the prompt is cut before its trailing space, which begins the answers.
    assert pair["prompt_ids"] == [tokenizer.bos_token_id] + tokenizer(prompt.rstrip())["input_ids"][-23:]
    assert tokenizer.decode(pair["prompt_ids"]).endswith("capital of France?\nASSISTANT:")
    assert tokenizer.decode(pair["chosen_ids"]) == " Paris." + tokenizer.eos_token
    assert len(pair["prompt_ids"]) + max(len(pair["chosen_ids"]), len(pair["rejected_ids"])) <= 40
    assert (
        len(train_data.pair_dataset(rows, tokenizer, max_length=40, max_prompt_length=24, over_length="drop")[0]) == 0
    )


def test_train_data_record_in_the_output_folder(tiny_llama, bagel_sample_out, tmp_path):
    out = tmp_path / "sft"
    opts = SFT.Options(
        model=str(tiny_llama),
        data=str(bagel_sample_out),
        output_dir=str(out),
        eval_fraction=0.1,
        max_length=64,
        over_length="drop",
        gradient_checkpointing=False,
        chat_format="llama-2",
    )
    trainer = SFT(opts).build()
    record = json.loads((out / train_data.REPORT_FILE).read_text())
    eval_ids = set(record["eval_ids"])
    assert eval_ids and record["seed"] == 42
    assert not eval_ids & set(trainer.train_dataset["id"]) if "id" in trainer.train_dataset.column_names else True
    assert record["length"]["train"]["dropped"] > 0 and record["rows"]["train"] == len(trainer.train_dataset)
    rows = pd.read_parquet(bagel_sample_out / "sft.parquet")
    assert len(rows[rows.id.isin(eval_ids)]) == record["length"]["eval"]["rows"]


def test_train_data_template_is_the_variant_the_rows_were_rendered_in(tiny_llama, tmp_path):
    """The saved chat template takes the format's options from the output's manifest, so data
    rendered with real ChatML markers gets the ChatML-marker template, not the default one."""
    from click.testing import CliRunner

    from bagel_core.cli import cli

    recipe = tmp_path / "recipe.toml"
    recipe.write_text("[format.chatml]\nim_markers = true\n")
    out = tmp_path / "out"
    result = CliRunner().invoke(
        cli,
        [
            "run",
            "--recipe",
            str(recipe),
            "--sample",
            "--sources",
            "slimorca",
            "--dpo",
            "none",
            "--formats",
            "chatml",
            "--decontaminate",
            "none",
            "--out",
            str(out),
            "-q",
        ],
    )
    assert result.exit_code == 0, result.output
    tokenizer = train_common.load_tokenizer(str(tiny_llama), "chatml", str(out))
    assert "<|im_start|>" in tokenizer.chat_template
    rows = sft_rows(out)
    assert rows[0]["prompt"].startswith("<|im_start|>")
    default = train_common.load_tokenizer(str(tiny_llama), "chatml")  # no manifest: the default variant
    assert "<|im_start|>" not in default.chat_template
    # A single-turn row's prompt is what the saved template gives for its messages.
    single = next(r for r in rows if r["prompt"].count("<|im_start|>user") == 1)
    user = single["prompt"].split("<|im_start|>user\n", 1)[1].split("<|im_end|>", 1)[0]
    messages = [{"role": "user", "content": user}]
    if single["prompt"].startswith("<|im_start|>system\n"):
        system = single["prompt"].split("<|im_start|>system\n", 1)[1].split("<|im_end|>", 1)[0]
        messages.insert(0, {"role": "system", "content": system})
    ids = tokenizer.apply_chat_template(messages, add_generation_prompt=True, return_dict=True)["input_ids"]
    assert list(ids) == train_data.sft_single(tokenizer, single["prompt"], single["completion"])[0][: len(ids)]


def test_train_data_warns_when_rows_were_rendered_with_other_special_tokens(tiny_llama, bagel_sample_out, tmp_path):
    import shutil

    from transformers import AutoTokenizer

    assert train_common.check_special_tokens(str(bagel_sample_out), AutoTokenizer.from_pretrained(tiny_llama)) is None
    other = tmp_path / "other"
    shutil.copytree(tiny_llama, other)
    tokenizer = AutoTokenizer.from_pretrained(other)
    tokenizer.eos_token = "<pad>"
    tokenizer.save_pretrained(other)
    warning = train_common.check_special_tokens(
        str(bagel_sample_out / "sft.parquet"), AutoTokenizer.from_pretrained(other)
    )
    assert "rendered with BOS/EOS '<s>'/'</s>'" in warning and "'<s>'/'<pad>'" in warning and "--tokenizer" in warning


def test_train_data_sft_holds_out_the_dpo_eval_items(tiny_llama, bagel_sample_out, tmp_path):
    """An item can have SFT rows and a DPO pair: --hold-out-dpo-eval keeps the items DPO will
    evaluate on out of SFT, so the DPO eval never saw them trained."""
    sft_ids = set(pd.read_parquet(bagel_sample_out / "sft.parquet").id)
    dpo_ids = set(pd.read_parquet(bagel_sample_out / "dpo.parquet").id)
    assert sft_ids & dpo_ids  # 5 of the 25 DPO items here
    dpo_eval = DPO(DPO.Options(model=str(tiny_llama), data=str(bagel_sample_out), eval_fraction=0.5)).eval_item_ids()
    leaked = set(dpo_eval) & sft_ids
    assert leaked
    out = tmp_path / "sft"
    trainer = SFT(
        SFT.Options(
            model=str(tiny_llama),
            data=str(bagel_sample_out),
            output_dir=str(out),
            eval_fraction=0.1,
            hold_out_dpo_eval=0.5,
            chat_format="llama-2",
            gradient_checkpointing=False,
        )
    ).build()
    record = json.loads((out / train_data.REPORT_FILE).read_text())
    assert record["held_out_ids"] == dpo_eval
    trained = set(trainer.train_dataset["id"]) | set(trainer.eval_dataset["id"])
    assert not trained & leaked and trained == sft_ids - leaked
