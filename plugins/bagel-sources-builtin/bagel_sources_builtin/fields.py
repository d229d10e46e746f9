"""Typed access to upstream row fields: a wrong type raises, so the row is counted as malformed."""

from __future__ import annotations

from typing import Any, Mapping

from bagel_core import Turn


def text(row: Mapping[str, Any], key: str) -> str:
    """``row[key]`` when it is a string; ``KeyError`` when missing, ``TypeError`` otherwise."""
    value = row[key]
    if not isinstance(value, str):
        raise TypeError(f"{key} must be text, got {type(value).__name__}")
    return value


def texts(value: Any, key: str) -> list[str]:
    """``value`` (an upstream list column named ``key``) when it is a list of strings."""
    if value is None:
        raise KeyError(key)
    if not isinstance(value, (list, tuple)) or not all(isinstance(v, str) for v in value):
        raise TypeError(f"{key} must be a list of text")
    return list(value)


def integer(row: Mapping[str, Any], key: str) -> int:
    """``row[key]`` when it is an int (a bool is not); ``KeyError`` when missing or null."""
    value = row[key]
    if value is None:
        raise KeyError(key)
    if isinstance(value, bool) or not isinstance(value, int):
        raise TypeError(f"{key} must be an integer, got {type(value).__name__}")
    return value


def turns_of(raw: Any) -> list[Turn]:
    """``{from, value}`` turns of an upstream ShareGPT list, other keys (``weight``) dropped."""
    return [{"from": t["from"], "value": t["value"]} for t in raw]
