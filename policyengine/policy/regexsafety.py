"""Refuse regular expressions that do not compile or could backtrack catastrophically.

Policies run on every resource of large directories; a pattern such as
``(a+)+$`` can take exponential time on a crafted account name. We reject
nested quantifiers over groups, and alternations with a quantified group,
which are the shapes behind ReDoS, and cap the pattern length.
"""

from __future__ import annotations

import re

MAX_PATTERN = 1000
# a quantified group whose body itself contains a quantifier: (a+)+, (\w*)*, (a|aa)+ ...
_NESTED = re.compile(
    r"\((?:[^()\\]|\\.)*?(?:[+*]|\{\d+,?\d*\})(?:[^()\\]|\\.)*\)\s*(?:[+*]|\{\d+,\d*\})"
)
_ALT_QUANT = re.compile(r"\((?:[^()\\]|\\.)*\|(?:[^()\\]|\\.)*\)\s*(?:[+*]|\{\d+,\d*\})")


def check_regex(pattern: str) -> re.Pattern[str]:
    """Compile ``pattern`` or raise ValueError saying why it is refused."""
    if len(pattern) > MAX_PATTERN:
        raise ValueError(f"regular expression longer than {MAX_PATTERN} characters")
    try:
        compiled = re.compile(pattern)
    except re.error as exc:
        raise ValueError(f"regular expression does not compile: {exc}") from None
    if _NESTED.search(pattern):
        raise ValueError(
            f"regular expression {pattern!r} nests quantifiers and could backtrack "
            "catastrophically; rewrite it without a repeated group that itself repeats"
        )
    if _ALT_QUANT.search(pattern):
        raise ValueError(
            f"regular expression {pattern!r} repeats an alternation and could backtrack "
            "catastrophically; make the alternatives mutually exclusive or drop the repeat"
        )
    return compiled
