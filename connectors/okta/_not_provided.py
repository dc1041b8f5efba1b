"""Fields Okta's API never gives: declared in the snapshot header (``source.not_provided``).

A policy over one of these, on an Okta resource without it, is not applicable rather than
a finding (see docs/model.md, "Fields a source does not provide").
"""

from __future__ import annotations

NOT_PROVIDED: dict[str, dict[str, str]] = {
    "credential:oauth_token": {
        "last_used_at": "Okta reports no last use of a refresh token",
        "activity": "Okta's System Log is not summarised per refresh token",
    },
    "credential:client_secret": {
        "last_used_at": "Okta reports no last use of an app's client secret",
        "expires_at": "Okta client secrets have no expiry (PE-CRED-001 judges their age)",
        "owner": "an Okta client secret belongs to its app, and Okta apps have no owner",
    },
    "credential:api_token": {
        "last_used_at": "Okta's API token object has no last-use field",
    },
    "integration": {
        "owner": "Okta apps have no owner field",
        "last_used_at": "Okta reports no last use of an app (the System Log summary is activity)",
    },
    "integration:oauth_client": {
        "refresh_token_policy": (
            "Okta sets refresh-token lifetime in authorization-server access policies "
            "(the org server's is fixed at 90 days), not on the app"
        ),
    },
}
