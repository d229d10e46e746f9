"""Turn clean-up shared by the role-play sources (pippa, bluemoon, limarp)."""

from __future__ import annotations

from typing import Any

from bagel_core import LoadContext, RefusalPatterns, Turn, is_refusal, readers


def fold_greeting(turns: list[Turn]) -> list[Turn] | None:
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
        turns = [{"from": "system", "value": system}, *turns[2:]]
    elif turns and turns[0]["from"] == "gpt":
        turns = [{"from": "system", "value": f"First message: {turns[0]['value']}"}, *turns[1:]]
    return turns if any(t["from"] == "human" for t in turns) else None


def roleplay_turns(row: Any, ctx: LoadContext, refusal_patterns: RefusalPatterns) -> list[Turn] | None:
    """The turns of a role-play row with the greeting folded into the persona, or ``None``
    (counted under its reason) for fewer than three turns, a refusal anywhere, a conversation
    opening with the character, or no human turn left."""
    turns = readers.turns(row)
    if len(turns) < 3:
        ctx.filter("fewer than three turns")
        return None
    if is_refusal("\n".join(readers.text(t, "value") for t in turns), refusal_patterns):
        ctx.filter("refusal")
        return None
    if turns[0]["from"] == "gpt":
        ctx.filter("starts with gpt")
        return None
    # Keeps the persona and appends the greeting (the reference overwrote the persona).
    folded = fold_greeting(turns)
    if folded is None:
        ctx.filter("no human turn")
    return folded
