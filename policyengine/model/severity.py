"""Finding severities, most severe first: the scale policies, gates and reports share."""

from __future__ import annotations

#: Most severe first.
SEVERITIES: tuple[str, ...] = ("critical", "high", "medium", "low", "info")
_RANK = {name: i for i, name in enumerate(SEVERITIES)}


def severity_at_least(severity: str, threshold: str) -> bool:
    """True when ``severity`` is as severe as ``threshold`` or more.

    >>> severity_at_least("critical", "high"), severity_at_least("low", "high")
    (True, False)
    """
    return _RANK[severity] <= _RANK[threshold]


def severity_rank(severity: str) -> int:
    return _RANK.get(severity, len(SEVERITIES))
