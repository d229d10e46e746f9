"""The benchmark test sets bagel decontaminates against (SOURCES.md §4): the reference's list
(group ``legacy``) and the benchmarks models are judged on today (group ``current``)."""

from .alpaca_eval import AlpacaEval
from .arc_challenge import ArcChallenge
from .bbh import BigBenchHard
from .drop import Drop
from .gpqa import Gpqa
from .gsm8k import Gsm8k
from .hendrycks_math import Math
from .humaneval import HumanEval
from .ifeval import IfEval
from .math_500 import Math500
from .mbpp import Mbpp
from .mmlu import Mmlu
from .mmlu_pro import MmluPro
from .mt_bench import MtBench
from .truthfulqa import TruthfulQA
from .winogrande import Winogrande

LEGACY = (AlpacaEval, ArcChallenge, Drop, Gsm8k, HumanEval, Mmlu, MtBench, TruthfulQA, Winogrande)
CURRENT = (BigBenchHard, Gpqa, IfEval, Math, Math500, Mbpp, MmluPro)
BENCHMARKS = LEGACY + CURRENT

__all__ = ["BENCHMARKS", "CURRENT", "LEGACY", *(cls.__name__ for cls in BENCHMARKS)]
