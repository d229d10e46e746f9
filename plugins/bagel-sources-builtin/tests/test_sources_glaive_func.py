"""glaive_func: function calls and results in the reference's markers, turns split at the
USER/ASSISTANT/FUNCTION RESPONSE segments."""

from sources_testkit import load, turns

from bagel_core import uid
from bagel_sources_builtin.glaive_func import GlaiveFunc, assistant_turn, chat_turns


def test_markers():
    assert (
        assistant_turn(' <functioncall> {"name": "f"} <|endoftext|>\n') == '<|begin_func|> {"name": "f"} <|end_func|>'
    )
    assert assistant_turn(" Done. <|endoftext|>\n\n") == "Done."
    assert chat_turns('USER: hi\n\nFUNCTION RESPONSE: {"a": 1}\n') == [
        {"from": "human", "value": "hi"},
        {"from": "human", "value": '<|begin_func_response|>{"a": 1}<|end_func_response|>'},
    ]


def test_function_calling_conversation():
    records, counts = load(GlaiveFunc)
    call = records[0]
    assert call["source"] == "glaive-func"
    assert turns(call)[0][0] == "system" and turns(call)[0][1].startswith(
        "You are a helpful assistant with access to the following functions."
    )
    assert turns(call)[1:] == [
        ("human", "How many euros is one US dollar today?"),
        (
            "gpt",
            '<|begin_func|> {"name": "get_exchange_rate", "arguments": \'{"base_currency": "USD", "target_currency": "EUR"}\'} <|end_func|>',
        ),
        ("human", '<|begin_func_response|>{"exchange_rate": 0.92}<|end_func_response|>'),
        ("gpt", "One US dollar is worth 0.92 euros today."),
        ("human", "Thanks!"),
        ("gpt", "You're welcome!"),
    ]
    # The id is that of the human turns (function results included), as every conversation's.
    assert call["id"] == uid("\n".join(v for r, v in turns(call) if r == "human"))


def test_plain_chat_blank_system_and_odd_rows():
    records, counts = load(GlaiveFunc)
    assert turns(records[1]) == [
        ("system", "You are a helpful assistant, with no access to external functions."),
        ("human", "Can you order me a pizza?"),
        ("gpt", "I'm sorry, but I can't place orders; I have no function for that."),
    ]
    assert turns(records[2]) == [("human", "Name a prime number."), ("gpt", "7")]  # blank system: no system turn
    assert len(records) == 3
    assert counts.filtered == {"not user first and assistant last": 1}  # ends on the user's turn
    assert counts.rejected == {"no USER/ASSISTANT segments": 1, "missing field 'system'": 1}  # empty chat; null system
    assert GlaiveFunc.max_items == 10_000


def test_engine_cap_draws_a_seeded_sample():
    records, counts = load(GlaiveFunc, max_items=2)
    assert len(records) == 2 and counts.filtered["cap"] == 3 - 2
    again, _ = load(GlaiveFunc, max_items=2, seed=0)
    assert [r["id"] for r in again] == [r["id"] for r in records]
    assert {r["id"] for r in records} <= {r["id"] for r in load(GlaiveFunc)[0]}


def test_reference_keeps_the_system_prompt_as_given():
    """3c7d241 removed "SYSTEM: " and nothing else: upstream system prompts end in a newline,
    which reached the llama-2 input (issue 28, row 4): ``strip_system = false``."""
    import json

    from bagel_sources_builtin import SAMPLES

    upstream = json.loads((SAMPLES / "glaiveai/glaive-function-calling-v2/glaive-function-calling-v2.json").read_text())
    records, _ = load(GlaiveFunc, strip_system=False)
    system = turns(records[0])[0]
    assert system == ("system", upstream[0]["system"].replace("SYSTEM: ", ""))
    assert system[1].endswith("}\n") and not system[1].startswith("SYSTEM")
    stripped, _ = load(GlaiveFunc)
    assert turns(stripped[0])[0] == ("system", system[1].strip())
