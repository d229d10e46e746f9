"""The benchmark test sets the reference decontaminated against (SOURCES.md §4)."""

from .alpaca_eval import AlpacaEval
from .arc_challenge import ArcChallenge
from .drop import Drop
from .gsm8k import Gsm8k
from .humaneval import HumanEval
from .mmlu import Mmlu
from .mt_bench import MtBench
from .truthfulqa import TruthfulQA
from .winogrande import Winogrande

BENCHMARKS = (AlpacaEval, ArcChallenge, Drop, Gsm8k, HumanEval, Mmlu, MtBench, TruthfulQA, Winogrande)

__all__ = ["BENCHMARKS", *(cls.__name__ for cls in BENCHMARKS)]
