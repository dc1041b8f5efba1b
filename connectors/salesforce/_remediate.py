"""A write session on one org for ``remediate apply``: the remediation credentials only.

The options are the source's own (login URL, API version, CA file, timeouts)
with the credential options replaced by the source's ``remediation:``
mapping (see :mod:`policyengine.remediate.registry`), so the collection
credential is never used to act. Writes go through the same
:class:`~connectors.http.HttpClient` as collection: 429 and 5xx are retried
with backoff, then raised as ConnectorError.
"""

from __future__ import annotations

import re
from collections.abc import Iterator, Mapping
from typing import Any

from connectors.http import HttpClient, TokenAuth
from connectors.salesforce._auth import make_fetch
from connectors.salesforce._http import Rest, auth_failure, classify, token_error
from connectors.salesforce._options import SalesforceOptions, parse_options
from policyengine.errors import ConnectorError
from policyengine.log import get_logger, register_secret

log = get_logger("policyengine.salesforce")

#: A Salesforce record id: 15 or 18 letters and digits (also what SOQL may quote safely).
_RECORD_ID = re.compile(r"^[A-Za-z0-9]{15}(?:[A-Za-z0-9]{3})?$")

#: The option names that are credentials: dropped from the source's options and
#: taken from its ``remediation:`` mapping.
CREDENTIAL_OPTIONS = frozenset(
    {
        "client_id",
        "username",
        "private_key_env",
        "private_key_file",
        "client_secret_env",
        "client_secret_file",
    }
)


def record_id(value: object, what: str) -> str:
    """``value`` if it is a Salesforce id, else ConnectorError (it goes into SOQL and URLs)."""
    if not isinstance(value, str) or not _RECORD_ID.match(value):
        raise ConnectorError(f"{what} {value!r} is not a Salesforce record id")
    return value


class SalesforceSession:
    """An authenticated REST client with the remediation credential."""

    def __init__(self, options: SalesforceOptions, *, instance: str) -> None:
        self.options = options
        self.instance = instance
        self._token_http = HttpClient.for_transport(
            options.login_url,
            options.transport,
            auth=None,
            fatal_error=token_error,
            auth_failure=auth_failure,
        )
        #: the user id the write token acts as (from the token response's ``id`` URL)
        self.identities: set[str] = set()
        self.http = HttpClient.for_transport(
            options.login_url,
            options.transport,
            auth=TokenAuth(make_fetch(options, self._token_http, self.identities.add)),
            fatal_error=classify,
            auth_failure=auth_failure,
        )
        assert self.http.auth is not None
        self.http.auth.header()  # refused credentials fail here, before any plan step
        self.rest = Rest(self.http, options.api_version)

    @classmethod
    def open(cls, options: Mapping[str, Any], *, instance: str) -> SalesforceSession:
        return cls(parse_options(options), instance=instance)

    def protected_identities(self) -> frozenset[str]:
        """The writing identity: the user its token acts as, its username, its consumer key."""
        named = {v for v in (self.options.username, self.options.client_id) if v}
        return frozenset(named | self.identities)

    def close(self) -> None:
        self.http.close()
        self._token_http.close()

    # -- what the actions use ------------------------------------------------------
    def query(self, soql: str) -> Iterator[dict[str, Any]]:
        return self.rest.query(soql)

    def sobject_path(self, sobject: str, row_id: str) -> str:
        return f"/services/data/v{self.options.api_version}/sobjects/{sobject}/{row_id}"

    def update(self, sobject: str, row_id: str, fields: Mapping[str, Any]) -> None:
        """PATCH one row (204 No Content on success)."""
        self.http.request(
            "PATCH", self.sobject_path(sobject, record_id(row_id, sobject)), json=fields
        )

    def delete(self, sobject: str, row_id: str) -> None:
        """DELETE one row (204 No Content on success)."""
        self.http.request("DELETE", self.sobject_path(sobject, record_id(row_id, sobject)))

    def revoke(self, delete_token: str) -> None:
        """POST the token's DeleteToken to the revocation endpoint of the org's My Domain.

        The DeleteToken is registered for log redaction and never returned or stored.
        """
        register_secret(delete_token)
        self.http.request(
            "POST",
            "/services/oauth2/revoke",
            data={"token": delete_token},
            headers={"Content-Type": "application/x-www-form-urlencoded"},
        )
