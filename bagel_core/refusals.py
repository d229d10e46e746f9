"""Detection of AI refusals and disclaimers, matched case-insensitively over the whole text.

The reference compiled these patterns without flags and passed ``re.I`` where the start offset
goes, so it matched case-sensitively from index 2; this module matches as intended. The
``*-reference`` pattern sets reproduce the reference's matching for a faithful recipe: the same
patterns, case-sensitive, from the third character ("OpenAI" and "As an AI" pass).
"""

from __future__ import annotations

import re
from functools import cache
from typing import Literal

RefusalPatterns = Literal["v0.2", "head", "v0.2-reference", "head-reference"]
#: The ``pos`` the reference passed by mistake (``re.I`` is 2).
_REFERENCE_START = 2
_REFERENCE = "-reference"

# The refusal patterns of the reference at v0.2 (data, verbatim).
_V02 = (
    r"(against|violate) my programming",
    r"openai",
    r"language model",
    r"large language",
    r"as an? (ai|generative language|gpt|bot)",
    r"illegal and dangerous",
    r"important to note",
    r"i do(n't| not) (possess|have|exhibit) (personal|consciousness|subjective)",
    r"personal (feelings|thoughts|emotions|desires|experiences|goals|objective|belief)",
    # The reference's "(\w+\s)+" backtracks quadratically on long texts; words are bounded at 30.
    r"(can('t| ?not)|w(on't|will not)|unable.?) (\w+\s){1,30}?(with (that|your)|your \w+|provide)",
    r"my limitations",
    r"the limitations of my",
    r"my abilities",
    r"violates my",
    r"i (can('t| ?not)|w(on't|will not)|am (not |un)able.?).{0,30}(you are|you're|your )",
    r"please note that",
)

# HEAD dropped "illegal and dangerous" and added these.
_HEAD_EXTRA = (
    r"unethical|illegal|dangerous",
    r"a text-based",
    r"(engag(e|ing)|participat(e|ing)|be involved (in|with)|promot(e|ing)|discuss(ing)?|provid(e|ing))"
    r"( in)?(\s*\w+ that)?(\s+potentially)? (derogatory|inappropriate|offensive|discriminate|"
    r"discriminatory|sexist|unacceptable|immoral|unethical|unacceptable|hateful|harmful)",
    r"i am commited to",
    r"adhere to safety guidelines",
    r"maintain user safety",
    r"about something else instead",
)

_HEAD = tuple(p for p in _V02 if p != r"illegal and dangerous") + _HEAD_EXTRA
PATTERNS: dict[str, tuple[str, ...]] = {
    "v0.2": _V02,
    "head": _HEAD,
    "v0.2" + _REFERENCE: _V02,
    "head" + _REFERENCE: _HEAD,
}


@cache
def _compiled(patterns: RefusalPatterns) -> tuple[re.Pattern[str], ...]:
    try:
        chosen = PATTERNS[patterns]
    except KeyError:
        raise ValueError(f"unknown refusal pattern set {patterns!r}; choose one of {sorted(PATTERNS)}") from None
    # The patterns are lower case: matching them case-sensitively on the lower-cased text gives
    # what re.IGNORECASE gives, about 7 times faster, and separate patterns beat one alternation.
    return tuple(re.compile(p) for p in chosen)


def is_refusal(text: str, patterns: RefusalPatterns = "v0.2") -> bool:
    """True when ``text`` contains any refusal pattern, in any letter case.

    >>> is_refusal("As an AI, I cannot do that.")
    True
    >>> is_refusal("Paris is the capital of France.")
    False
    """
    if patterns.endswith(_REFERENCE):
        return any(p.search(text, _REFERENCE_START) for p in _compiled(patterns))
    lowered = text.lower()
    return any(p.search(lowered) for p in _compiled(patterns))
