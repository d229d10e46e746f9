"""lmsys-chat-1m DPO: gpt-4 vs the largest two-digit-billion open model on the same input."""

import pytest

from bagel_core import uid
from bagel_core.testing import load_sample
from bagel_dpo_builtin.lmsys_chat import LmsysChatDPO, model_size


@pytest.mark.parametrize(
    "model, size",
    [
        ("vicuna-13b", 13),
        ("vicuna-33b", 33),
        ("llama-2-13b-chat", 13),
        ("mpt-30b-chat", 30),
        ("koala-13b", 13),
        ("vicuna-7b", None),
        ("gpt-3.5-turbo", None),
        ("claude-1", None),
        ("RWKV-4-Raven-14B", None),
        ("gpt-4", None),
    ],
)
def test_dpo_lmsys_model_size(model, size):
    assert model_size(model) == size


def test_dpo_lmsys_exact_pairs():
    records, _ = load_sample(LmsysChatDPO)
    assert records == [
        {
            "id": uid("What is the boiling point of water at sea level?"),
            "source": "lmsys_chat_1m",
            "prompt": "What is the boiling point of water at sea level?",
            "chosen": "100 degrees Celsius (212 degrees Fahrenheit).",
            "rejected": "It boils at 100 C.",  # vicuna-33b beats the 13b models; 7b/14B/turbo never count
        },
        {
            "id": uid("Name a prime number."),
            "source": "lmsys_chat_1m",
            "prompt": "Name a prime number.",
            "chosen": "7 is a prime number.",
            "rejected": "9",  # two 13b candidates: the first seen stays
        },
    ]


def test_dpo_lmsys_filters_and_malformed_rows():
    _, counts = load_sample(LmsysChatDPO)
    assert counts.filtered == {
        "other model": 11,
        "refusal in chosen": 1,  # "As an AI developed by OpenAI"
        "not single-turn": 1,  # a two-exchange gpt-4 chat, though a 13b model answered its input
        "no open-model answer to the same input": 1,
        "chosen equals rejected": 1,
    }
    assert counts.rejected == {"bad value": 1, "missing field 'model'": 1}  # an empty conversation
