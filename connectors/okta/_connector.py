"""The Okta connector plug-in (``policyengine collect okta``)."""

from __future__ import annotations

import argparse
from collections.abc import Mapping, Sequence
from typing import Any, ClassVar

from connectors.okta._options import OktaOptions, add_arguments, parse_options
from policyengine.connector.contract import SnapshotSink


def _okta_auth_failure(response: Any) -> bool:
    """Only a 401 means the credentials are refused; a 403 is a missing permission/scope."""
    return bool(response.status_code == 401)


class OktaConnector:
    """Users with factors and admin roles, admin groups, API tokens, session policies."""

    name: ClassVar[str] = "okta"
    summary: ClassVar[str] = (
        "Okta org: users, MFA factors, admin roles, API tokens, global session policies"
    )

    def __init__(self, options: OktaOptions, *, instance: str, transport: Any = None) -> None:
        self.options = options
        self.instance = instance
        self._transport = transport  # tests may pass an httpx transport
        self._rate_hooks: list[Any] = []
        #: after collect(): requests sent, retries, pauses on X-Rate-Limit-Remaining / 429
        self.request_count = 0
        self.retry_count = 0
        self.rate_limit_pauses = 0

    @classmethod
    def add_arguments(cls, parser: argparse.ArgumentParser) -> None:
        add_arguments(parser)

    # -- remediation (policyengine.remediate.contract) -------------------------------
    credential_options: ClassVar[frozenset[str]] = frozenset(
        {"token_env", "token_file", "client_id", "private_key_env", "private_key_file", "key_id"}
    )

    @classmethod
    def remediation_actions(cls) -> Sequence[Any]:
        from connectors.okta._actions import ACTIONS

        return ACTIONS

    @classmethod
    def open_remediation(cls, options: Mapping[str, Any], *, instance: str) -> Any:
        from connectors.okta._remediate import OktaSession

        return OktaSession.open(options, instance=instance)

    @classmethod
    def from_options(cls, options: Mapping[str, Any], *, instance: str) -> OktaConnector:
        connector = cls(parse_options(options), instance=instance)
        connector._check_secrets()
        return connector

    def _check_secrets(self) -> None:
        """Read the secrets now, so a missing one is a usage error before any I/O."""
        from connectors.okta._auth import load_private_key
        from policyengine.secrets import read_secret

        o = self.options
        if o.oauth:
            load_private_key(o)
        else:
            read_secret(env=o.token_env, file=o.token_file, what="Okta API token")

    def _client(self, auth: Any, *, attempts: int | None = None) -> Any:
        from connectors.http import HttpClient, RateLimitHeaders

        o = self.options
        hook = RateLimitHeaders(reserve=o.transport.max_concurrency + 1)
        self._rate_hooks.append(hook)
        return HttpClient.for_transport(
            o.org_url,
            o.transport,
            auth=auth,
            max_attempts=attempts,
            on_response=hook,
            auth_failure=_okta_auth_failure,
            max_connections=o.transport.max_concurrency + 2,
            transport=self._transport,
        )

    def _record_identity(self, client: Any, writer: SnapshotSink) -> None:
        """``source.collected_as``: the token's owner (remediation never acts on it)."""
        from connectors.okta._identity import identities
        from policyengine.errors import ConnectorError
        from policyengine.log import get_logger

        try:
            writer.extra_source["collected_as"] = sorted(identities(self.options, client))
        except ConnectorError as exc:  # not a collection failure; the plan just knows less
            get_logger("policyengine.okta").warning("okta.collected_as_unknown", error=str(exc))

    def collect(self, writer: SnapshotSink) -> None:
        from connectors.okta._auth import oauth_auth, ssws_auth
        from connectors.okta._collect import OktaCollector

        token_client = None
        if self.options.oauth:
            token_client = self._client(None, attempts=1)  # _auth retries, re-signing
            auth = oauth_auth(self.options, token_client)
        else:
            auth = ssws_auth(self.options)
        from connectors.okta._not_provided import NOT_PROVIDED

        writer.extra_source["not_provided"] = NOT_PROVIDED  # fields the API never gives
        client = self._client(auth)
        try:
            self._record_identity(client, writer)
            OktaCollector(client, self.options, writer).run()
        finally:
            self.request_count = client.request_count + (
                token_client.request_count if token_client else 0
            )
            self.retry_count = client.retry_count
            self.rate_limit_pauses = sum(h.pauses for h in self._rate_hooks)
            client.close()
            if token_client is not None:
                token_client.close()
