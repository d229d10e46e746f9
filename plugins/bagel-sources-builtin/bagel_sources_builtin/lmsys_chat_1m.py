"""lmsys_chat_1m (SFT part): real user conversations answered by gpt-4.

The DPO builder of the same name pairs some of these answers with a weaker model's; here every
gpt-4 conversation that passes the refusal filter is an SFT item. The reference made the paired
ones DPO-only; a run gets that with ``[run] dpo_only = ["lmsys-chat-1m-dpo"]`` (the dedup stage
drops the SFT items with a pair's id), so this source need not know the pairs.
"""

from __future__ import annotations

from dataclasses import dataclass

from bagel_core import LoadContext, RefusalPatterns, Source, Turn, is_refusal, sft_item
from bagel_core.readers import items, text

from . import SAMPLES

DATASET = "lmsys/lmsys-chat-1m"
#: lmsys role names -> ShareGPT roles (the reference kept the lmsys names, breaking rendering).
ROLES = {"user": "human", "assistant": "gpt"}


class LmsysChat1m(Source):
    name = "lmsys_chat_1m"
    description = "LMSYS-Chat-1M conversations answered by gpt-4 (refusals removed)"
    priority = 2
    dataset_ids = (DATASET,)
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
        model: str = "gpt-4"
        #: Keep only these languages (upstream `language` column); empty keeps all, as the cards.
        languages: tuple[str, ...] = ()
        refusal_patterns: RefusalPatterns = "v0.2"

    options: Options

    def rows(self, ctx: LoadContext):
        return ctx.load_dataset(DATASET)

    def convert(self, row, ctx: LoadContext):
        if row["model"] != self.options.model:
            ctx.filter("model")
            return None
        if self.options.languages and row.get("language") not in self.options.languages:
            ctx.filter("language")
            return None
        turns: list[Turn] = []
        for message in items(row, "conversation"):
            role = text(message, "role")
            if role not in ROLES:
                raise ValueError(f"unknown role {role!r}")
            turns.append({"from": ROLES[role], "value": text(message, "content")})
        answers = "\n".join(t["value"] for t in turns if t["from"] == "gpt")
        if is_refusal(answers, self.options.refusal_patterns):
            ctx.filter("refusal")
            return None
        return sft_item("lmsys_chat_1m", turns)
