"""Fields Microsoft Graph (v1.0) never gives: declared in the snapshot header
(``source.not_provided``).

A policy over one of these, on an Entra resource without it, is not applicable rather than
a finding (see docs/model.md, "Fields a source does not provide").
"""

from __future__ import annotations

_CREDENTIAL = {
    "owner": "a password or key credential has no owner of its own (its app's owners do)",
    "last_used_at": "Graph v1.0 reports no use of an app credential (beta reports only)",
}

NOT_PROVIDED: dict[str, dict[str, str]] = {
    "credential:client_secret": _CREDENTIAL,
    "credential:certificate": _CREDENTIAL,
    "integration": {
        "last_used_at": "service principal sign-in activity is a beta-only report in Graph",
    },
}
