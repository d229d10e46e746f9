"""Turn clean-up shared by the role-play sources (pippa, bluemoon)."""

from __future__ import annotations

from typing import Optional

from bagel_core import Turn


def fold_greeting(turns: list[Turn]) -> Optional[list[Turn]]:
    """Move the character's opening gpt message into the system prompt.

    A conversation ``[system, gpt greeting, human, ...]`` becomes ``[system, human, ...]`` with
    the system prompt (the persona) kept and ``First message: <greeting>`` appended after a blank
    line; one that opens with a gpt turn and no persona gets the greeting as its system prompt.
    Returns ``None`` when nothing would remain for the human to start.
    """
    if len(turns) >= 2 and turns[0]["from"] == "system" and turns[1]["from"] == "gpt":
        persona = turns[0]["value"].rstrip()
        greeting = f"First message: {turns[1]['value']}"
        system = f"{persona}\n\n{greeting}" if persona else greeting
        turns = [{"from": "system", "value": system}] + turns[2:]
    elif turns and turns[0]["from"] == "gpt":
        turns = [{"from": "system", "value": f"First message: {turns[0]['value']}"}] + turns[1:]
    return turns if any(t["from"] == "human" for t in turns) else None
