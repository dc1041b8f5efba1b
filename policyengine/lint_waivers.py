"""Waiver checks for ``policyengine lint`` (called by :mod:`policyengine.lint`).

Codes (documented in ``docs/ci-gate.md``):

- ``E301`` a waiver entry that does not validate (missing reason, owner, policy,
  unknown field, bad fingerprint, bad date, both or neither of resource/fingerprint);
- ``E302`` a waiver without an expiry date;
- ``E303`` a waiver expiring beyond the maximum horizon (``waiver_max_days``,
  default 90 days after ``now``);
- ``W304`` a waiver that matches nothing (an orphan), when lint is given a
  result or resources to match against;
- ``W305`` a waiver already expired at ``now``;
- ``W306`` a waiver expiring within 14 days of ``now``.

YAML that does not load (syntax, aliases, tags) is reported with the loader's
own code (``E001``/``E002``).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from pathlib import Path
from typing import Any

from policyengine.errors import PolicyEngineError
from policyengine.lint import LintMessage, from_error
from policyengine.lintcodes import E303, W304, W305, W306


def lint_waivers(
    path: Path,
    *,
    resources_or_result: Any = None,
    max_days: int,
    now: str,
) -> list[LintMessage]:
    """Check the waivers file at ``path``; messages sorted by position.

    ``resources_or_result`` is a :class:`~policyengine.findings.Result` (orphans
    are waivers matching none of its findings) or an iterable of resource
    dicts (orphans are waivers whose selector or fingerprint matches none of
    them); ``None`` skips the orphan check. ``now`` is an ISO 8601 time.
    """
    from policyengine.findings.model import Result
    from policyengine.findings.waivers import (
        EXPIRY_WARNING_DAYS,
        orphans,
        parse_waivers,
    )

    file = str(path)
    try:
        waivers, problems = parse_waivers(path, max_days=max_days)
    except PolicyEngineError as exc:
        return [from_error(exc)]
    out = [
        LintMessage(
            file,
            p.line or 1,
            p.col or 1,
            p.code,
            f"field '{p.field}': {p.message}" if p.field else p.message,
            "error",
        )
        for p in problems
    ]
    for w in waivers.waivers:
        line, col = w.line or 1, w.col or 1
        if w.expired(now):
            out.append(
                LintMessage(
                    file,
                    line,
                    col,
                    W305,
                    f"waiver {w.describe()} expired {w.expires[:10]}; renew it or remove it",
                    "warning",
                )
            )
        elif w.beyond_horizon(now, max_days):
            out.append(
                LintMessage(
                    file,
                    line,
                    col,
                    E303,
                    f"waiver {w.describe()} expires {w.expires[:10]}, more than {max_days} days "
                    f"from now ({now[:10]}); choose an earlier date (waiver_max_days)",
                    "error",
                )
            )
        elif w.expiring_soon(now):
            out.append(
                LintMessage(
                    file,
                    line,
                    col,
                    W306,
                    f"waiver {w.describe()} expires {w.expires[:10]}, within "
                    f"{EXPIRY_WARNING_DAYS} days",
                    "warning",
                )
            )
    if resources_or_result is not None:
        against: Result | Iterable[Mapping[str, Any]] = resources_or_result
        what = "finding" if isinstance(against, Result) else "resource"
        for w in orphans(waivers, against):
            out.append(
                LintMessage(
                    file,
                    w.line or 1,
                    w.col or 1,
                    W304,
                    f"waiver {w.describe()} matches no {what}; remove it",
                    "warning",
                )
            )
    return sorted(out)
