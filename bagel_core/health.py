"""Loud warnings about sources whose output is suspicious though the run succeeded.

A source that yields nothing, or whose rows are mostly rejected for one reason, nearly always
means a wrong file, a renamed upstream column or a plugin out of date: the run still finishes
(the other sources are fine), but the summary and the dataset card say it where it is seen.
"""

from __future__ import annotations

from typing import Any

#: Share of a source's rows rejected for a single reason above which it is warned about.
MOSTLY = 0.5


def source_warnings(sources: dict[str, dict[str, Any]]) -> list[str]:
    """One line per suspicious source of a manifest's ``sources`` table."""
    warnings = []
    for name, s in sources.items():
        rejected, filtered = s.get("rejected", {}), s.get("filtered", {})
        seen = s["loaded"] + sum(rejected.values()) + sum(filtered.values())
        if s["loaded"] == 0:
            why = f"all {seen} rows were filtered" if seen else "no rows at all"
            warnings.append(f"{name} yielded nothing ({why})")
            continue
        if not rejected:
            continue
        reason, n = max(rejected.items(), key=lambda kv: kv[1])
        if n > MOSTLY * seen:
            at = s.get("rejected_examples", {}).get(reason, {}).get("at")
            warnings.append(f"{name}: {n} of {seen} rows rejected for {reason!r}" + (f" (first at {at})" if at else ""))
    return warnings
