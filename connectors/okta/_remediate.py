"""A write session on one Okta org for ``remediate apply``: the remediation credentials only.

The options are the source's own (org URL, CA file, timeouts) with the credential
options replaced by the source's ``remediation:`` mapping (see
:mod:`policyengine.remediate.registry`): an SSWS API token of a write admin, or an
OAuth service app granted the ``*.manage`` scopes. Writes go through the same
:class:`~connectors.http.HttpClient` as collection (429 and 5xx retried with
backoff, then ConnectorError).

The writing identity is resolved at open: ``GET /api/v1/users/me`` names the SSWS
token's owner (id, login, email), which apply never acts on; a service app has no
user, so its client id is what is protected.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Any
from urllib.parse import quote

from connectors.http import HttpClient
from connectors.okta._options import OktaOptions, parse_options
from policyengine.errors import ConnectorError

#: The OAuth scopes the actions need (Okta "OAuth 2.0 scopes"); reads for the live re-read.
WRITE_SCOPES = (
    "okta.users.read",
    "okta.users.manage",
    "okta.apiTokens.read",
    "okta.apiTokens.manage",
    "okta.appGrants.read",
    "okta.appGrants.manage",
)

#: Okta object ids (users 00u..., tokens 00T..., apps 0oa..., grants oag...): letters and
#: digits only, so a snapshot value cannot steer a URL.
_OKTA_ID = re.compile(r"^[A-Za-z0-9]{6,40}$")


def okta_id(value: object, what: str) -> str:
    """``value`` if it looks like an Okta id, else ConnectorError (it goes into a URL)."""
    if not isinstance(value, str) or not _OKTA_ID.match(value):
        raise ConnectorError(f"{what} {value!r} is not an Okta id")
    return quote(value, safe="")


class OktaSession:
    """An authenticated client with the remediation credential."""

    def __init__(self, options: OktaOptions, *, instance: str, transport: Any = None) -> None:
        from connectors.okta._connector import OktaConnector

        self.options = options
        self.instance = instance
        connector = OktaConnector(options, instance=instance, transport=transport)
        connector._check_secrets()  # a missing write secret is a usage error before any I/O
        self._token_http: HttpClient | None = None
        if options.oauth:
            from connectors.okta._auth import oauth_auth

            self._token_http = connector._client(None, attempts=1)
            auth = oauth_auth(options, self._token_http)
        else:
            from connectors.okta._auth import ssws_auth

            auth = ssws_auth(options)
        self.http: HttpClient = connector._client(auth)
        self._identities = self._resolve_identities()

    @classmethod
    def open(
        cls, options: Mapping[str, Any], *, instance: str, transport: Any = None
    ) -> OktaSession:
        values = dict(options)
        if values.get("client_id"):
            # the source's scopes are the read-only collection ones; acting needs these
            values["scopes"] = " ".join(WRITE_SCOPES)
        return cls(parse_options(values), instance=instance, transport=transport)

    def _resolve_identities(self) -> frozenset[str]:
        """Who the write credential is; a refused credential fails here, before any step."""
        from connectors.okta._identity import identities

        if self.options.oauth:
            self.http.auth.header()  # type: ignore[union-attr]  # mint a token now
        return identities(self.options, self.http)

    def protected_identities(self) -> frozenset[str]:
        return self._identities

    def close(self) -> None:
        self.http.close()
        if self._token_http is not None:
            self._token_http.close()

    # -- what the actions use ------------------------------------------------------
    def get_or_none(self, path: str) -> Any:
        """``GET path`` as JSON, None on 404 (the object is gone)."""
        return self.http.get_json_or_none(path)

    def send(self, method: str, path: str, *, missing_ok: bool = False) -> bool:
        """One write; False when ``missing_ok`` and Okta answers 404 (already gone)."""
        return self.http.send(method, path, missing_ok=missing_ok)
