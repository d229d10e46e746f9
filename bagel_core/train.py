"""The public API for writing a ``bagel train NAME`` trainer (stable; see docs/training.md).

- :class:`bagel_core.Trainer` (re-exported here): any training method; its ``Options``
  dataclass fields become flags, ``train()`` does the work, ``setup_logs()`` quiets the
  libraries it uses.
- :class:`TrlTrainer` and :class:`TrainOptions`: a method run by one of trl's trainers with
  bagel's shared steps (read bagel's output, skip malformed rows, split by item, count long
  rows, the chat template, LoRA/QLoRA, DeepSpeed, save, push); :class:`PreferenceOptions` adds
  the options of the preference methods (``beta``, ``max_prompt_length``).
- :class:`LengthReport`: what a ``tokenize`` hook returns beside its rows;
  :func:`sft_dataset` / :func:`pair_dataset` tokenize rows as ``bagel train sft`` / ``dpo`` do.
- :exc:`TrainingSetupError`: a one-line error of ``bagel train``.

Importing this module imports no heavy library (torch, transformers, trl, peft): they are
imported when a trainer runs. The implementation lives in ``bagel_core.builtin.train``,
whose names are private: import from here (the old paths still work, but may change).
"""

from __future__ import annotations

from .builtin.train.common import TrainingSetupError, TrainOptions, TrlTrainer, train_and_save
from .builtin.train.data import LengthReport, pair_dataset, sft_dataset
from .builtin.train.dpo import PreferenceOptions
from .components import Trainer

__all__ = [
    "LengthReport",
    "PreferenceOptions",
    "TrainOptions",
    "Trainer",
    "TrainingSetupError",
    "TrlTrainer",
    "pair_dataset",
    "sft_dataset",
    "train_and_save",
]
