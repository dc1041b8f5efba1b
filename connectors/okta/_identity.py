"""Who an Okta credential is: remediation never acts on the collecting or writing identity.

An SSWS API token acts as the admin who created it: ``GET /api/v1/users/me`` names
that user (Okta: "returns the user linked to the API token ... the admin user who
granted the API token"). An OAuth service app has no user; its client id is what
it is.
"""

from __future__ import annotations

from typing import Any

from connectors.okta._options import OktaOptions
from policyengine.errors import ConnectorError


def token_owner(http: Any) -> frozenset[str]:
    """The id, login and email of the SSWS token's owner (``GET /api/v1/users/me``)."""
    me = http.get_json("/api/v1/users/me")
    if not isinstance(me, dict) or not me.get("id"):
        raise ConnectorError("GET /api/v1/users/me: no user id in the answer")
    profile = me.get("profile") or {}
    names = {me.get("id"), profile.get("login"), profile.get("email")}
    return frozenset(str(n) for n in names if n)


def identities(options: OktaOptions, http: Any) -> frozenset[str]:
    """Who ``http`` (authenticated with ``options``' credential) acts as."""
    if options.oauth:
        return frozenset({options.client_id or ""}) - {""}
    return token_owner(http)
