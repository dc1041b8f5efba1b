"""Fields GitHub's API never gives: declared in the snapshot header (``source.not_provided``).

A policy over one of these, on a GitHub resource without it, is not applicable rather than
a finding (see docs/model.md, "Fields a source does not provide").
"""

from __future__ import annotations

NOT_PROVIDED: dict[str, dict[str, str]] = {
    "account": {
        "mfa.methods": "GitHub says whether 2FA is on (filter=2fa_disabled), never which method",
        "mfa.phishing_resistant": "GitHub never says which 2FA method a member uses",
        "last_login_at": "GitHub reports no sign-in time of organization members",
    },
    "integration": {
        "last_used_at": "GitHub reports no last use of an App installation",
    },
}


def declaration(two_factor_known: bool) -> dict[str, dict[str, str]]:
    """What this run declares: without the 2FA state (no owner token) a member's missing
    method is missing data, as their enrolment is, so ``mfa.*`` is then not declared."""
    if two_factor_known:
        return NOT_PROVIDED
    account = {k: v for k, v in NOT_PROVIDED["account"].items() if not k.startswith("mfa.")}
    return {**NOT_PROVIDED, "account": account}
