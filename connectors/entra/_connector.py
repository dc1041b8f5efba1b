"""The Entra ID connector plug-in (``policyengine collect entra``)."""

from __future__ import annotations

import argparse
from collections.abc import Mapping, Sequence
from typing import Any, ClassVar

from connectors.entra._options import EntraOptions, add_arguments, parse_options
from policyengine.connector.contract import SnapshotSink


def _refused(response: Any) -> bool:
    """Only a 401 means the token is refused; a 403 is a missing permission or licence."""
    return bool(response.status_code == 401)


class EntraConnector:
    """Users with MFA registration and directory roles, apps and their credentials and
    permissions, consent settings, Conditional Access."""

    name: ClassVar[str] = "entra"
    summary: ClassVar[str] = (
        "Microsoft Entra ID (Graph): users, MFA, roles/PIM, apps, grants, consent, CA"
    )

    #: the app's credentials: ``remediation:`` supplies them for acting (the tenant stays
    #: the source's, so a write app can never be pointed at another tenant)
    credential_options: ClassVar[frozenset[str]] = frozenset(
        {"client_id", "client_secret_env", "client_secret_file", "certificate_file"}
    )

    def __init__(self, options: EntraOptions, *, instance: str, transport: Any = None) -> None:
        self.options = options
        self.instance = instance
        self._transport = transport
        #: after collect(): Graph and token requests sent, retries
        self.request_count = 0
        self.retry_count = 0

    @classmethod
    def add_arguments(cls, parser: argparse.ArgumentParser) -> None:
        add_arguments(parser)

    @classmethod
    def remediation_actions(cls) -> Sequence[Any]:
        from connectors.entra._actions import ACTIONS

        return ACTIONS

    @classmethod
    def open_remediation(cls, options: Mapping[str, Any], *, instance: str) -> Any:
        from connectors.entra._remediate import EntraSession

        return EntraSession.open(options, instance=instance)

    @classmethod
    def from_options(cls, options: Mapping[str, Any], *, instance: str) -> EntraConnector:
        connector = cls(parse_options(options), instance=instance)
        connector._check_secrets()
        return connector

    def _check_secrets(self) -> None:
        """Read the credential now, so a missing one is a usage error before any I/O."""
        from connectors.entra._auth import load_certificate

        if self.options.secret is not None:
            self.options.secret.read("Entra client secret")
        elif self.options.certificate_file:
            load_certificate(self.options.certificate_file)

    def collect(self, writer: SnapshotSink) -> None:
        from connectors.entra._auth import MsalTokens, token_auth
        from connectors.entra._collect import EntraCollector
        from connectors.entra._not_provided import NOT_PROVIDED
        from connectors.http import HttpClient

        writer.extra_source["not_provided"] = NOT_PROVIDED  # fields the API never gives
        o = self.options
        tokens = MsalTokens(o)
        client = HttpClient.for_transport(
            o.graph_url,
            o.transport,
            auth=token_auth(tokens),
            auth_failure=_refused,
            max_connections=o.transport.max_concurrency + 2,
            transport=self._transport,
        )
        writer.extra_source["tenant_id"] = o.tenant_id
        # remediation never acts on who collected (the app; its service principal added later)
        writer.extra_source["collected_as"] = [o.client_id]
        try:
            EntraCollector(client, o, writer).run()
        finally:
            self.request_count = client.request_count + tokens.request_count
            self.retry_count = client.retry_count
            client.close()
