"""Refuse regular expressions that do not compile or could backtrack catastrophically.

Policies run on every resource of large directories; a pattern such as
``(a+)+$`` can take exponential time on a crafted account name. The parsed
pattern is walked: a repeat (``+``, ``*``, ``{n,m}`` with m > 1) whose body
contains another unbounded repeat or an alternation is refused — the shapes
behind ReDoS — however deeply groups nest them. Patterns are also capped in
length.
"""

from __future__ import annotations

import re
from typing import Any

try:  # Python 3.11+
    from re import _constants as _sre  # type: ignore[attr-defined]
    from re import _parser as _sre_parse  # type: ignore[attr-defined]
except ImportError:  # pragma: no cover - older layout
    import sre_constants as _sre  # type: ignore[no-redef]
    import sre_parse as _sre_parse  # type: ignore[no-redef]

MAX_PATTERN = 1000
_REPEATS = {_sre.MAX_REPEAT, _sre.MIN_REPEAT, getattr(_sre, "POSSESSIVE_REPEAT", None)} - {None}
_UNBOUNDED = _sre.MAXREPEAT


def check_regex(pattern: str) -> re.Pattern[str]:
    """Compile ``pattern`` or raise ValueError saying why it is refused."""
    if len(pattern) > MAX_PATTERN:
        raise ValueError(f"regular expression longer than {MAX_PATTERN} characters")
    try:
        compiled = re.compile(pattern)
        parsed = _sre_parse.parse(pattern)
    except re.error as exc:
        raise ValueError(f"regular expression does not compile: {exc}") from None
    problem = _dangerous(parsed, inside_repeat=False)
    if problem:
        raise ValueError(
            f"regular expression {pattern!r} {problem} and could backtrack catastrophically; "
            "rewrite it so that no repeated part contains another repeat or an alternation"
        )
    return compiled


def _dangerous(items: Any, *, inside_repeat: bool) -> str | None:
    for op, arg in items:
        if op in _REPEATS:
            _low, high, body = arg
            if inside_repeat and high == _UNBOUNDED:
                return "nests an unbounded repeat inside a repeat"
            repeats = high > 1
            found = _dangerous(body, inside_repeat=inside_repeat or repeats)
            if found:
                return found
        elif op is _sre.BRANCH:
            if inside_repeat:
                return "repeats an alternation"
            for branch in arg[1]:
                found = _dangerous(branch, inside_repeat=inside_repeat)
                if found:
                    return found
        elif op is _sre.SUBPATTERN:
            found = _dangerous(arg[-1], inside_repeat=inside_repeat)
            if found:
                return found
        elif op in (_sre.ASSERT, _sre.ASSERT_NOT):
            found = _dangerous(arg[1], inside_repeat=inside_repeat)
            if found:
                return found
    return None
