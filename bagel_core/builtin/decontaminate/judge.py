"""A second opinion on candidate matches from a local causal language model, as
llm-decontaminator (arXiv 2311.04850) asks GPT-4: is this training text the benchmark item,
reworded?

The ``embedding`` decontaminator uses it when its ``judge`` option names a model (a
transformers id or folder; off by default). Each candidate pair (the item's view and the
benchmark view) is put to the model in one prompt that ends with ``Answer (Yes or No):``; one
forward pass, no generation: the pair is judged a match when the model's next-token score for
``Yes`` beats ``No``. The model runs through transformers (``AutoModelForCausalLM``), on the GPU
when torch sees one; its chat template is used when its tokenizer has one.

Cost: one forward pass of the prompt (both texts, ~100-600 tokens) per candidate pair; a 7B
model on a GPU judges tens of pairs a second, on two CPU cores a pair takes seconds. How good
its verdicts are depends on the model: none is measured here (no such model was at hand).
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from bagel_core.builtin.library_bars import library_bars_off

PROMPT = (
    "Text A is a question from a benchmark test set. Text B is an example from a training set.\n"
    "Does Text B ask the same question as Text A, or contain it, even if it is reworded, reordered, "
    "translated or differently formatted? Answer Yes or No.\n\n"
    "Text A:\n{benchmark}\n\nText B:\n{text}\n\nAnswer (Yes or No):"
)
#: Characters kept of each text in a prompt (a long passage is cut, not the whole item).
MAX_CHARS = 2000


class LlmJudge:
    """Judges (text, benchmark text) pairs with a causal LM, ``batch_size`` prompts at a time."""

    def __init__(self, model: str, device: str = "", batch_size: int = 8) -> None:
        self.name = model
        self.device = device
        self.batch_size = batch_size
        self._model: Any = None
        self._tokenizer: Any = None
        self._yes_no: tuple[list[int], list[int]] = ([], [])

    def _load(self) -> None:
        import torch
        from transformers import AutoModelForCausalLM, AutoTokenizer

        with library_bars_off():
            tokenizer = AutoTokenizer.from_pretrained(self.name)
            model = AutoModelForCausalLM.from_pretrained(self.name)
        device = self.device or ("cuda" if torch.cuda.is_available() else "cpu")
        model.to(device).eval()  # type: ignore[arg-type]  # transformers types to() as if unbound
        if tokenizer.pad_token is None:
            tokenizer.pad_token = tokenizer.eos_token
        tokenizer.padding_side = "left"  # the last position of every row is the answer's

        def first_tokens(words: Sequence[str]) -> list[int]:
            ids = {
                tokenizer.encode(w, add_special_tokens=False)[0]
                for w in words
                if tokenizer.encode(w, add_special_tokens=False)
            }
            return sorted(ids)

        self._yes_no = (first_tokens([" Yes", "Yes", " yes"]), first_tokens([" No", "No", " no"]))
        self._model, self._tokenizer = model, tokenizer

    def prompt(self, text: str, benchmark: str) -> str:
        body = PROMPT.format(benchmark=benchmark[:MAX_CHARS], text=text[:MAX_CHARS])
        if getattr(self._tokenizer, "chat_template", None):
            return self._tokenizer.apply_chat_template(
                [{"role": "user", "content": body}], tokenize=False, add_generation_prompt=True
            )
        return body

    def judge(self, pairs: Sequence[tuple[str, str]]) -> list[bool]:
        """Per (text, benchmark text): whether the model says the text is the benchmark item."""
        if not pairs:
            return []
        import torch

        if self._model is None:
            self._load()
        yes, no = self._yes_no
        out: list[bool] = []
        for start in range(0, len(pairs), self.batch_size):
            prompts = [self.prompt(t, b) for t, b in pairs[start : start + self.batch_size]]
            batch = self._tokenizer(prompts, return_tensors="pt", padding=True).to(self._model.device)
            with torch.no_grad():
                logits = self._model(**batch).logits[:, -1, :].float()
            out += (logits[:, yes].max(dim=1).values > logits[:, no].max(dim=1).values).tolist()
        return out
