"""A write session on one Entra tenant for ``remediate apply``: the remediation app only.

The options are the source's own (tenant, authority, Graph root, CA file, timeouts)
with the credential options (``client_id``, ``client_secret_env`` /
``client_secret_file`` / ``certificate_file``) taken from the source's
``remediation:`` mapping (see :mod:`policyengine.remediate.registry`): a second app
registration holding the write application permissions. Tokens come from MSAL
exactly as for collection; writes go through the same
:class:`~connectors.http.HttpClient` (429 and 5xx retried with backoff, then
ConnectorError).

The writing identity is the write app (its client id); core also protects the
collecting app's client id from ``policyengine.yaml``. A token is minted at open, so
a refused write credential fails before any step.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Any
from urllib.parse import quote

from connectors.entra._options import EntraOptions, parse_options
from connectors.http import HttpClient
from policyengine.errors import ConnectorError

#: Graph object ids are GUIDs; an oAuth2PermissionGrant id is a base64url string.
_GRAPH_ID = re.compile(r"^[A-Za-z0-9_-]{1,128}$")


def graph_id(value: object, what: str) -> str:
    """``value`` if it looks like a Graph object id, else ConnectorError (it goes into a URL)."""
    if not isinstance(value, str) or not _GRAPH_ID.match(value):
        raise ConnectorError(f"{what} {value!r} is not a Graph object id")
    return quote(value, safe="")


class EntraSession:
    """An authenticated Graph client with the remediation app's token."""

    def __init__(self, options: EntraOptions, *, instance: str, transport: Any = None) -> None:
        from connectors.entra._auth import MsalTokens, token_auth
        from connectors.entra._connector import EntraConnector, _refused

        self.options = options
        self.instance = instance
        EntraConnector(options, instance=instance)._check_secrets()  # usage error before I/O
        self._tokens = MsalTokens(options)
        self.http: HttpClient = HttpClient.for_transport(
            options.graph_url,
            options.transport,
            auth=token_auth(self._tokens),
            auth_failure=_refused,
            transport=transport,
        )
        self.http.auth.header()  # type: ignore[union-attr]  # mint a token now

    @classmethod
    def open(
        cls, options: Mapping[str, Any], *, instance: str, transport: Any = None
    ) -> EntraSession:
        return cls(parse_options(options), instance=instance, transport=transport)

    def protected_identities(self) -> frozenset[str]:
        # the write app; its service principal is an integration, never an account target
        return frozenset({self.options.client_id})

    def close(self) -> None:
        self.http.close()

    # -- what the actions use ------------------------------------------------------
    def get_or_none(self, path: str) -> Any:
        """``GET path`` as JSON, None on 404 (the object is gone)."""
        return self.http.get_json_or_none(path)

    def send(self, method: str, path: str, *, json: Any = None, missing_ok: bool = False) -> bool:
        """One write; False when ``missing_ok`` and Graph answers 404 (already gone)."""
        body = {} if json is None else {"json": json}
        return self.http.send(method, path, missing_ok=missing_ok, **body)
