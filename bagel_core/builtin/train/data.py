"""The training rows as token ids, built by bagel rather than by trl: the eval split by item,
the prompt/completion tokenization, the multi-turn sequences and the length limit.

The prompt and the completion are tokenized apart and concatenated, as the reference's qlora
collator did: the prompt's tokens are exactly what ``tokenizer(apply_chat_template(...,
add_generation_prompt=True))`` gives, and the completion's tokens are what the model is then
taught to generate, whatever the data. On bagel's output this equals trl's own tokenization
(``prompt + completion`` as one string, cut where it diverges from the tokenized prompt), since
the render stage cuts each row on a token boundary (``rendering.at_token_boundary``: vicuna's
trailing space begins the completion); benchmarks/token_parity.py checks it.
"""

from __future__ import annotations

import json
import random
import sys
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any, Literal

from bagel_core.config import ConfigError
from bagel_core.rendering import at_token_boundary

if TYPE_CHECKING:
    import datasets
    from transformers import PreTrainedTokenizerBase

#: What happens to a row longer than ``--max-length``: cut (keeping the prompt's end and the
#: completion's start) or left out. Either way it is counted and reported.
OverLength = Literal["truncate", "drop"]

#: The file in ``--output-dir`` recording the eval split and the row counts.
REPORT_FILE = "bagel_data.json"


class DataError(ConfigError):
    """Training rows that cannot be used as asked (``bagel train`` shows it as a one-line error)."""


# --- eval split by item -----------------------------------------------------------------------


def item_ids(rows: datasets.Dataset) -> list[str]:
    """Each row's item id: bagel's ``id`` column (one item has a row per format and per
    assistant turn), or the row number for data without one."""
    if "id" in rows.column_names:
        return [str(i) for i in rows["id"]]
    return [str(i) for i in range(len(rows))]


def eval_items(ids: Iterable[str], fraction: float, seed: int) -> set[str]:
    """The items held out for evaluation: ``fraction`` of the distinct ids (at least one when
    ``fraction`` > 0), drawn with ``seed`` from the sorted ids so the draw does not depend on row
    order."""
    if not 0.0 <= fraction < 1.0:
        raise DataError(f"--eval-fraction must be in [0, 1), got {fraction}")
    distinct = sorted(set(ids))
    if fraction == 0.0:
        return set()
    count = max(1, round(fraction * len(distinct)))
    if count >= len(distinct):
        raise DataError(f"--eval-fraction {fraction} leaves no training item ({len(distinct)} item(s) in all)")
    return set(random.Random(seed).sample(distinct, count))


def split_by_item(
    rows: datasets.Dataset, fraction: float, seed: int
) -> tuple[datasets.Dataset, datasets.Dataset | None, list[str]]:
    """Train rows, eval rows (``None`` without an eval split) and the sorted eval item ids: all
    rows of an item fall on one side, so no eval item is also trained on."""
    ids = item_ids(rows)
    held = eval_items(ids, fraction, seed)
    if not held:
        return rows, None, []
    eval_index = [i for i, item in enumerate(ids) if item in held]
    train_index = [i for i, item in enumerate(ids) if item not in held]
    return rows.select(train_index), rows.select(eval_index), sorted(held)


# --- tokenization -------------------------------------------------------------------------------


def encode_prompt(tokenizer: PreTrainedTokenizerBase, prompt: str) -> list[int]:
    """The prompt's ids as inference sees them: with the tokenizer's BOS, unless the prompt
    already starts with it (a chat template that writes it, as the ``chat-template`` format's may)."""
    return list(tokenizer(prompt, add_special_tokens=not writes_bos(tokenizer, prompt))["input_ids"])


def writes_bos(tokenizer: PreTrainedTokenizerBase, text: str) -> bool:
    """Whether ``text`` starts with the BOS the tokenizer would otherwise add."""
    return bool(tokenizer.bos_token) and text.startswith(tokenizer.bos_token)


def encode_completion(tokenizer: PreTrainedTokenizerBase, completion: str) -> list[int]:
    """The completion's ids, tokenized on their own, then EOS (the model learns to stop)."""
    ids = list(tokenizer(completion, add_special_tokens=False)["input_ids"])
    eos = tokenizer.eos_token_id
    if eos is not None and (not ids or ids[-1] != eos):
        ids.append(eos)
    return ids


@dataclass
class LengthReport:
    """Rows over the length limit, by what happened to them."""

    max_length: int
    policy: str
    rows: int = 0
    over: int = 0
    truncated: int = 0
    #: Dropped: over the limit with ``drop``, or with nothing trainable left after truncation.
    dropped: int = 0

    def as_dict(self) -> dict[str, Any]:
        return {
            "max_length": self.max_length,
            "policy": self.policy,
            "rows": self.rows,
            "over_length": self.over,
            "truncated": self.truncated,
            "dropped": self.dropped,
        }

    def line(self, what: str) -> str | None:
        if not self.over:
            return None
        done = (
            f"{self.truncated} truncated, {self.dropped} dropped"
            if self.policy == "truncate"
            else f"{self.dropped} dropped"
        )
        return f"{what}: {self.over} of {self.rows} rows longer than --max-length {self.max_length} tokens ({done}; --over-length {self.policy})"


def fit_sft(
    ids: list[int], mask: list[int], limit: int, policy: str, report: LengthReport
) -> tuple[list[int], list[int]] | None:
    """``(ids, mask)`` within ``limit`` tokens by ``policy`` (keeping the start), or ``None``
    for a row left out; counted in ``report``."""
    report.rows += 1
    if len(ids) <= limit:
        return ids, mask
    report.over += 1
    if policy == "truncate" and any(mask[:limit]):
        report.truncated += 1
        return ids[:limit], mask[:limit]
    report.dropped += 1
    return None


def fit_pair(
    prompt: list[int],
    chosen: list[int],
    rejected: list[int],
    limit: int,
    prompt_limit: int | None,
    policy: str,
    report: LengthReport,
    bos: int | None = None,
) -> tuple[list[int], list[int], list[int]] | None:
    """A preference pair within ``limit`` tokens (prompt + the longer answer): with
    ``truncate`` the prompt keeps its last ``prompt_limit`` tokens (the question nearest the
    answer; a leading ``bos`` stays in front) and the answers their start; ``None`` for a
    pair left out."""
    report.rows += 1
    if len(prompt) + max(len(chosen), len(rejected)) <= limit:
        return prompt, chosen, rejected
    report.over += 1
    if policy == "truncate":
        if prompt_limit and len(prompt) > prompt_limit:
            head = prompt[:1] if bos is not None and prompt[:1] == [bos] else []
            prompt = head + prompt[len(prompt) - prompt_limit + len(head) :]
        room = limit - len(prompt)
        if room > 0:
            report.truncated += 1
            return prompt, chosen[:room], rejected[:room]
    report.dropped += 1
    return None


# --- SFT rows ------------------------------------------------------------------------------------


def encode_pair(tokenizer: PreTrainedTokenizerBase, prompt: str, *answers: str) -> tuple[list[int], ...]:
    """The prompt's ids, then each answer's with EOS, the text cut on a token boundary first
    (``rendering.at_token_boundary``: spaces ending the prompt begin the answers), as bagel's
    output already is: any data then tokenizes as trl tokenizes bagel's."""
    cut_prompt, *cut_answers = at_token_boundary(prompt, *answers)
    return encode_prompt(tokenizer, cut_prompt), *(encode_completion(tokenizer, a) for a in cut_answers)


def sft_single(tokenizer: PreTrainedTokenizerBase, prompt: str, completion: str) -> tuple[list[int], list[int]]:
    """``(input_ids, completion_mask)`` of one row: the prompt masked (0), the completion and
    EOS trained (1)."""
    prompt_ids, completion_ids = encode_pair(tokenizer, prompt, completion)
    return prompt_ids + completion_ids, [0] * len(prompt_ids) + [1] * len(completion_ids)


def conversation(rows: list[dict[str, Any]], eos_text: str | None) -> tuple[str, list[tuple[int, int]]] | None:
    """One item's rows in one format (a row per assistant turn) as one conversation: the
    last row's prompt + answer, and the character spans trained: each answer, with the EOS
    the format writes right after it in the history (llama-2, chatml). ``None`` when the rows
    do not chain (each row's prompt extends the previous prompt with its answer); then they
    train one by one."""
    rows = sorted(rows, key=lambda r: len(r["prompt"]))
    spans: list[tuple[int, int]] = []
    for prev, row in zip(rows, rows[1:]):
        if not row["prompt"].startswith(prev["prompt"]):
            return None
        start = row["prompt"].find(prev["completion"], len(prev["prompt"]))
        if start < 0 or row["prompt"][len(prev["prompt"]) : start].strip():
            return None
        end = start + len(prev["completion"])
        after = row["prompt"][end:]
        if eos_text and after.lstrip().startswith(eos_text):
            end += len(after) - len(after.lstrip()) + len(eos_text)
        spans.append((start, end))
    last = rows[-1]
    spans.append((len(last["prompt"]), len(last["prompt"]) + len(last["completion"])))
    return last["prompt"] + last["completion"], spans


def sft_multi_turn(
    tokenizer: PreTrainedTokenizerBase, text: str, spans: list[tuple[int, int]]
) -> tuple[list[int], list[int]]:
    """``(input_ids, completion_mask)`` of a whole conversation in one sequence, tokenized as
    one string (as ``apply_chat_template`` tokenizes a conversation): a token is trained when
    it holds a character of a trained span (the assistant-mask rule of transformers'
    ``{% generation %}``); EOS ends the sequence, trained, as after a single row."""
    if not getattr(tokenizer, "is_fast", False):
        raise DataError("--multi-turn needs a fast tokenizer (character offsets); this one is not")
    encoded = tokenizer(text, return_offsets_mapping=True, add_special_tokens=not writes_bos(tokenizer, text))
    ids = list(encoded["input_ids"])
    mask = [int(any(s < e and s < hi and lo < e for lo, hi in spans)) for s, e in encoded["offset_mapping"]]
    eos = tokenizer.eos_token_id
    if eos is not None and ids[-1] != eos:
        ids.append(eos)
        mask.append(1)
    return ids, mask


def _lengths(report: LengthReport, over: list[bool], keep: list[bool]) -> None:
    report.rows = len(over)
    report.over = sum(over)
    report.dropped = len(keep) - sum(keep)
    report.truncated = report.over - report.dropped


def sft_dataset(
    rows: datasets.Dataset,
    tokenizer: PreTrainedTokenizerBase,
    *,
    max_length: int,
    over_length: str,
    multi_turn: bool = False,
    num_proc: int | None = None,
) -> tuple[datasets.Dataset, LengthReport]:
    """Rows with ``prompt``/``completion`` as trl's tokenized rows (``input_ids``,
    ``completion_mask``) within ``max_length``; with ``multi_turn`` one sequence per item and
    format (rows without an ``id``/``format`` column, or that do not chain, stay one per row)."""
    import datasets

    if multi_turn and {"id", "format"} <= set(rows.column_names):
        groups: dict[tuple[str, str], list[dict[str, Any]]] = {}
        for row in rows.select_columns(["id", "format", "prompt", "completion"]):
            groups.setdefault((str(row["id"]), str(row["format"])), []).append(row)
        encoded = []
        for (item, _), group in groups.items():
            chained = conversation(group, tokenizer.eos_token) if len(group) > 1 else None
            if chained is None:
                encoded += [(item, *sft_single(tokenizer, r["prompt"], r["completion"])) for r in group]
            else:
                encoded.append((item, *sft_multi_turn(tokenizer, *chained)))
        table = datasets.Dataset.from_dict(
            {
                "id": [e[0] for e in encoded],
                "input_ids": [e[1] for e in encoded],
                "completion_mask": [e[2] for e in encoded],
            }
        )
    else:

        def encode(row: dict[str, Any]) -> dict[str, Any]:
            ids, mask = sft_single(tokenizer, row["prompt"], row["completion"])
            return {"input_ids": ids, "completion_mask": mask}

        table = rows.map(encode, remove_columns=[c for c in rows.column_names if c != "id"], num_proc=num_proc)
    return _fit(table, ("input_ids", "completion_mask"), max_length, over_length, num_proc)


def _fit(
    table: datasets.Dataset, columns: tuple[str, str], limit: int, policy: str, num_proc: int | None
) -> tuple[datasets.Dataset, LengthReport]:
    """``table`` (``input_ids`` + ``completion_mask``) within ``limit`` by ``policy``."""
    ids_col, mask_col = columns

    def fit(row: dict[str, Any]) -> dict[str, Any]:
        scratch = LengthReport(limit, policy)
        fitted = fit_sft(row[ids_col], row[mask_col], limit, policy, scratch)
        kept = fitted or (row[ids_col], row[mask_col])
        return {ids_col: kept[0], mask_col: kept[1], "_over": bool(scratch.over), "_keep": fitted is not None}

    table = table.map(fit, num_proc=num_proc)
    report = LengthReport(limit, policy)
    _lengths(report, table["_over"], table["_keep"])
    table = table.filter(lambda keep: keep, input_columns="_keep", num_proc=num_proc).remove_columns(["_over", "_keep"])
    return table, report


def pair_dataset(
    rows: datasets.Dataset,
    tokenizer: PreTrainedTokenizerBase,
    *,
    max_length: int,
    max_prompt_length: int | None,
    over_length: str,
    num_proc: int | None = None,
) -> tuple[datasets.Dataset, LengthReport]:
    """Preference rows (``prompt``/``chosen``/``rejected``) as trl's tokenized rows
    (``prompt_ids``, ``chosen_ids``, ``rejected_ids``) within ``max_length``."""

    def encode(row: dict[str, Any]) -> dict[str, Any]:
        scratch = LengthReport(max_length, over_length)
        prompt, chosen, rejected = encode_pair(tokenizer, row["prompt"], row["chosen"], row["rejected"])
        fitted = fit_pair(
            prompt,
            chosen,
            rejected,
            max_length,
            max_prompt_length,
            over_length,
            scratch,
            bos=tokenizer.bos_token_id,
        )
        prompt_ids, chosen_ids, rejected_ids = fitted or ([], [], [])
        return {
            "prompt_ids": prompt_ids,
            "chosen_ids": chosen_ids,
            "rejected_ids": rejected_ids,
            "_over": bool(scratch.over),
            "_keep": fitted is not None,
        }

    table = rows.map(encode, remove_columns=[c for c in rows.column_names if c != "id"], num_proc=num_proc)
    report = LengthReport(max_length, over_length)
    _lengths(report, table["_over"], table["_keep"])
    table = table.filter(lambda keep: keep, input_columns="_keep", num_proc=num_proc).remove_columns(["_over", "_keep"])
    return table, report


def pair_lengths(rows: datasets.Dataset, tokenizer: PreTrainedTokenizerBase, num_proc: int | None = None) -> list[int]:
    """Each pair's length as trained: its prompt and its longer answer, with BOS and EOS."""

    def length(row: dict[str, Any]) -> dict[str, int]:
        prompt, *answers = encode_pair(tokenizer, row["prompt"], row["chosen"], row["rejected"])
        return {"_length": len(prompt) + max(map(len, answers))}

    return rows.map(length, num_proc=num_proc)["_length"]


def drop_long(
    rows: datasets.Dataset, lengths: list[int], limit: int, policy: str
) -> tuple[datasets.Dataset, LengthReport]:
    """``rows`` without those over ``limit`` with ``policy`` ``drop`` (with ``truncate`` they
    stay for the trainer to cut), and the count."""
    report = LengthReport(limit, policy, rows=len(lengths), over=sum(n > limit for n in lengths))
    if policy == "drop":
        report.dropped = report.over
        rows = rows.select([i for i, n in enumerate(lengths) if n <= limit])
    else:
        report.truncated = report.over
    return rows, report


# --- the record in the output folder ------------------------------------------------------------


@dataclass
class DataRecord:
    """What ``--output-dir``/bagel_data.json records about the rows a run trained on."""

    data: str
    seed: int
    eval_fraction: float
    eval_ids: list[str] = field(default_factory=list)
    #: Items left out of the run (``--hold-out-dpo-eval``: the DPO run's eval items).
    held_out_ids: list[str] = field(default_factory=list)
    train_items: int = 0
    rows: dict[str, Any] = field(default_factory=dict)
    length: dict[str, Any] = field(default_factory=dict)

    def write(self, folder: str) -> Path:
        path = Path(folder) / REPORT_FILE
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(json.dumps(self.__dict__, indent=2) + "\n")
        return path


def report_lengths(what: str, reports: dict[str, LengthReport]) -> dict[str, Any]:
    """Echo the over-length counts (one line per split with any) and return them for the record."""
    for split, report in reports.items():
        line = report.line(f"{what} {split}")
        if line:
            print(f"warning: {line}", file=sys.stderr)
    return {split: report.as_dict() for split, report in reports.items()}


def count_items(rows: datasets.Dataset | None) -> int:
    return len(set(item_ids(rows))) if rows is not None else 0
