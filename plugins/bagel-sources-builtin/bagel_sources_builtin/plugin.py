"""Entry point of bagel-sources-builtin: registers every built-in source and benchmark set."""

from bagel_core import hookimpl

from .ai2_arc import Ai2Arc
from .airoboros import Airoboros
from .apps import Apps
from .belebele import Belebele
from .benchmarks import BENCHMARKS
from .bluemoon import Bluemoon
from .boolq import BoolQ
from .camelai import CamelAI
from .capybara import Capybara
from .cinematika import Cinematika
from .comedy_snippets import ComedySnippets
from .drop import Drop
from .emobank import EmoBank
from .evol_instruct import EvolInstruct
from .glaive_func import GlaiveFunc
from .gutenberg import Gutenberg
from .limarp import LimaRP
from .lmsys_chat_1m import LmsysChat1m
from .local_files import LocalFiles
from .mathinstruct import MathInstruct
from .mmlu import Mmlu
from .natural_instructions import NaturalInstructions
from .openbookqa import OpenBookQA
from .pippa import Pippa
from .piqa import Piqa
from .python_alpaca import PythonAlpaca
from .ropes import Ropes
from .rosetta_code import RosettaCode
from .slimorca import SlimOrca
from .spider import Spider
from .sql import Sql
from .squad_v2 import SquadV2
from .summarization import Summarization
from .synthia import Synthia
from .whiterabbitneo import WhiteRabbitNeo
from .winogrande import Winogrande


@hookimpl
def register_sources(register):
    register(Airoboros)
    register(Ai2Arc)
    register(Belebele)
    register(BoolQ)
    register(Drop)
    register(EmoBank)
    register(LocalFiles)
    register(MathInstruct)
    register(Mmlu)
    register(NaturalInstructions)
    register(OpenBookQA)
    register(Piqa)
    register(Spider)
    register(SquadV2)
    register(Winogrande)
    register(Apps)
    register(Bluemoon)
    register(Capybara)
    register(Cinematika)
    register(Gutenberg)
    register(LmsysChat1m)
    register(Pippa)
    register(PythonAlpaca)
    register(RosettaCode)
    register(SlimOrca)
    register(Summarization)
    register(Synthia)
    # The later sources of the reference's HEAD (bagel v0.5).
    for source in (CamelAI, ComedySnippets, EvolInstruct, GlaiveFunc, LimaRP, Ropes, Sql, WhiteRabbitNeo):
        register(source)


@hookimpl
def register_benchmarks(register):
    for benchmark in BENCHMARKS:
        register(benchmark)
