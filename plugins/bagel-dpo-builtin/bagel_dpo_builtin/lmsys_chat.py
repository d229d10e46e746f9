"""lmsys-chat-1m DPO: gpt-4's answer preferred over the largest open model's answer to the same
single-turn user input.

Every row's user turns (joined by LF) group rows with the same input. A row of model ``gpt-4``
whose answer is no refusal is a gpt-4 item; a row whose model name has a size tag (a hyphen,
exactly two digits, a lower-case ``b``: ``vicuna-13b``, ``llama-2-13b-chat``) is a candidate,
and per input the largest candidate is kept (the first on a tie). A single-turn gpt-4 item with
a candidate of the same input whose answer differs becomes a pair: prompt = the user message,
chosen = gpt-4's answer, rejected = the candidate's last message. Only pairs are emitted here;
these gpt-4 items are not SFT items in the reference (the SFT source decides that).
"""

from __future__ import annotations

import hashlib
import re
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass
from typing import Any

from bagel_core import DPOBuilder, LoadContext, Record, RefusalPatterns, dpo_pair, is_refusal
from bagel_core.readers import DATA_ERRORS, RowError, items, text

from . import SAMPLES
from .common import SameResponses, differ

#: A size tag in a model name, e.g. "-13b"; the two digits are the size in billions.
SIZE_TAG = re.compile(r"-(\d{2})b")


def model_size(model: str) -> int | None:
    """The two-digit size in billions of ``model``, or None when its name has no such tag.

    >>> model_size("llama-2-13b-chat"), model_size("vicuna-7b"), model_size("RWKV-4-Raven-14B")
    (13, None, None)
    """
    match = SIZE_TAG.search(model)
    return int(match.group(1)) if match else None


def _turns(row: Any) -> list[tuple[str, str]]:
    """(role, content) of every message of the row's conversation; raises on a malformed one."""
    conversation = items(row, "conversation")
    if not conversation:
        raise RowError("bad value", "conversation is empty")
    return [(text(m, "role"), text(m, "content")) for m in conversation]


def _joined(turns: Sequence[tuple[str, str]], role: str) -> str:
    return "\n".join(content for r, content in turns if r == role)


def _digest(user_input: str) -> bytes:
    return hashlib.blake2b(user_input.encode(), digest_size=16).digest()


class LmsysChatDPO(DPOBuilder):
    name = "lmsys-chat-1m-dpo"
    description = "lmsys-chat-1m: gpt-4's answer vs the largest 10-99b open model's, same single-turn input"
    priority = 2
    dataset_ids = ("lmsys/lmsys-chat-1m",)
    license = "other"
    terms = "Gated on the Hub: using LMSYS-Chat-1M requires accepting the LMSYS-Chat-1M Dataset License Agreement (see the dataset's page); the licence travels with any data derived from it."
    citation = r"""@article{zheng2023lmsyschat1m,
  title = {LMSYS-Chat-1M: A Large-Scale Real-World LLM Conversation Dataset},
  author = {Zheng, Lianmin and Chiang, Wei-Lin and Sheng, Ying and Li, Tianle and Zhuang, Siyuan and Wu, Zhanghao and Zhuang, Yonghao and Li, Zhuohan and Lin, Zi and Xing, Eric P. and Gonzalez, Joseph E. and Stoica, Ion and Zhang, Hao},
  journal = {arXiv preprint arXiv:2309.11998},
  year = {2023}
}"""
    content_warning = "Real user conversations with chatbots; the authors kept unsafe conversations on purpose (each message carries an OpenAI moderation tag upstream)."
    sample_root = SAMPLES

    @dataclass
    class Options:
        #: Model whose answers are chosen.
        chosen_model: str = "gpt-4"
        #: Refusal patterns tested on the chosen model's answers: "v0.2" or "head".
        refusal_patterns: RefusalPatterns = "v0.2"
        #: When chosen and rejected count as the same (pair dropped): "folded" or "exact".
        same_responses: SameResponses = "folded"

    options: Options

    def load(self, ctx: LoadContext) -> Iterator[Record]:
        rows = ctx.load_dataset(self.dataset_ids[0], data_files={"train": "data/train-*.parquet"})
        rows = rows.select_columns(["model", "conversation"])
        items = self._chosen_items(ctx.iter_rows(rows), ctx)
        # A second pass keeps only the candidates that can pair, to bound memory on 1M rows.
        candidates = self._candidates(ctx.iter_rows(rows), {digest for digest, _, _ in items})
        for digest, prompt, answer in items:
            candidate = candidates.get(digest)
            if candidate is None:
                ctx.filter("no open-model answer to the same input")
            elif candidate[1] == answer or not differ(answer, candidate[2], self.options.same_responses):
                ctx.filter("chosen equals rejected")
            else:
                yield dpo_pair("lmsys_chat_1m", prompt, answer, candidate[2])

    def _chosen_items(self, rows: Iterable[Any], ctx: LoadContext) -> list[tuple[bytes, str, str]]:
        """(digest, prompt, answer) of the chosen model's single-turn, non-refused rows, in
        order; counts every row that is not one (rows of other models as "other model")."""
        items = []
        for row in rows:
            turns = None
            with ctx.guard(row):
                model, turns = text(row, "model"), _turns(row)
            if turns is None:
                continue
            if model != self.options.chosen_model:
                ctx.filter("other model")
            elif is_refusal(_joined(turns, "assistant"), self.options.refusal_patterns):
                ctx.filter("refusal in chosen")
            elif len(turns) != 2:
                ctx.filter("not single-turn")
            elif [role for role, _ in turns] != ["user", "assistant"]:
                ctx.reject("roles are not user, assistant")
            else:
                items.append((_digest(turns[0][1]), turns[0][1], turns[1][1]))
        return items

    def _candidates(self, rows: Iterable[Any], wanted: set[bytes]) -> dict[bytes, tuple[int, str, str]]:
        """digest -> (size, answers joined by LF, last message) of the largest sized model
        that answered each wanted input (the first seen on a tie)."""
        best: dict[bytes, tuple[int, str, str]] = {}
        for row in rows:
            try:
                model, turns = text(row, "model"), _turns(row)
            except DATA_ERRORS:
                continue  # counted by the first pass
            size = model_size(model)
            if size is None or model == self.options.chosen_model or turns[-1][0] != "assistant":
                continue
            digest = _digest(_joined(turns, "user"))
            if digest in wanted and size > best.get(digest, (-1,))[0]:
                best[digest] = (size, _joined(turns, "assistant"), turns[-1][1])
        return best
