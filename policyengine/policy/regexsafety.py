"""Compile user-supplied regular expressions with RE2, a linear-time engine.

Policies and connector options apply their patterns to every account name of
large directories, which an attacker may choose. A backtracking engine
(Python's ``re``) can take exponential time on a crafted name even for
innocent-looking patterns (``.*.*.*=$``, ``^.*-.*-.*x$``), and no heuristic
catches every such shape. RE2 matches in time linear in the input, so no
pattern can backtrack; it refuses the few constructs that need backtracking
(backreferences ``\\1``, lookaround ``(?=``/``(?<=``, possessive ``a++``)
with its own reason. RE2's ``\\d``, ``\\w`` and ``\\b`` are ASCII-only.

``re2`` is imported on first use: ``lint`` with an unchanged cache never
compiles a policy, so it does not pay for the import.
"""

from __future__ import annotations

from functools import lru_cache
from typing import Any, Protocol

MAX_PATTERN = 1000
#: RE2's memory budget for one compiled pattern: bounds patterns like ``(x{1000}){1000}``
_MAX_MEMORY = 8 << 20


class Pattern(Protocol):
    """What callers use of a compiled pattern (RE2's objects are not ``re.Pattern``)."""

    def search(self, text: str) -> Any: ...


def compile_regex(pattern: str, *, ignore_case: bool = False) -> Pattern:
    """Compile ``pattern`` with RE2 or raise ValueError saying why it is refused."""
    if len(pattern) > MAX_PATTERN:
        raise ValueError(f"regular expression longer than {MAX_PATTERN} characters")
    return _compile(pattern, ignore_case)


@lru_cache(maxsize=512)
def _compile(pattern: str, ignore_case: bool) -> Pattern:
    import re2

    options = re2.Options()
    options.log_errors = False  # RE2 would print every refused pattern to stderr
    options.max_mem = _MAX_MEMORY
    options.case_sensitive = not ignore_case
    try:
        return re2.compile(pattern, options)  # type: ignore[no-any-return]
    except re2.error as exc:
        reason = exc.args[0] if exc.args else exc
        if isinstance(reason, bytes):
            reason = reason.decode("utf-8", "replace")
        raise ValueError(
            f"regular expression does not compile with RE2 (linear-time matching): {reason}"
        ) from None
