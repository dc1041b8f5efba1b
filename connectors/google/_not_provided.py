"""Fields Google's APIs never give: declared in the snapshot header (``source.not_provided``).

A policy over one of these, on a Google resource without it, is not applicable rather than
a finding (see docs/model.md, "Fields a source does not provide").
"""

from __future__ import annotations

NOT_PROVIDED: dict[str, dict[str, str]] = {
    "account": {
        "mfa.methods": "the Directory API says whether 2SV is on, never which methods",
        "mfa.phishing_resistant": "the Directory API never says which 2SV methods a user has",
    },
    "credential:oauth_token": {
        "created_at": "tokens.list gives no time of the grant",
        "last_used_at": "tokens.list gives no last use of a grant",
        "last_rotated_at": "a user's OAuth grant has no rotation in Google",
    },
    "integration": {
        "owner": "a third-party OAuth app has no owner in the Workspace tenant",
        "created_at": "Google reports no time a third-party app was first authorised",
        "last_used_at": "Google reports no last use of a third-party app (see activity)",
        "refresh_token_policy": "Google has no per-app refresh-token lifetime for third-party apps",
    },
}
