"""Options of the Entra connector: command-line flags and ``policyengine.yaml`` keys."""

from __future__ import annotations

import argparse
import re
from collections.abc import Mapping
from dataclasses import dataclass, field

from policyengine.connector.account_types import (
    NAME_AND_ATTR,
    TypeRules,
    add_type_rule_arguments,
    read_type_rules,
)
from policyengine.connector.options import Options, SecretRef, option_names
from policyengine.connector.transport import (
    Transport,
    TransportSpec,
    add_transport_arguments,
    parse_transport,
)
from policyengine.errors import UsageError

TRANSPORT = TransportSpec(
    defaults=Transport(timeout=30.0, max_concurrency=4, max_attempts=5, retry_backoff=0.5),
    concurrency_help="Graph calls in flight at once",
)
#: a tenant is a GUID or a verified domain (contoso.onmicrosoft.com)
_TENANT = re.compile(r"^([0-9a-fA-F-]{36}|[A-Za-z0-9][A-Za-z0-9.-]{0,252})$")
_GUID = re.compile(r"^[0-9a-fA-F]{8}(-[0-9a-fA-F]{4}){3}-[0-9a-fA-F]{12}$")


@dataclass(frozen=True, slots=True)
class EntraOptions:
    """Validated options for one tenant."""

    tenant_id: str
    client_id: str
    secret: SecretRef | None
    certificate_file: str | None
    authority_url: str = "https://login.microsoftonline.com"
    graph_url: str = "https://graph.microsoft.com"
    transport: Transport = TRANSPORT.defaults
    page_size: int = 999
    sign_in_activity: bool = True
    type_rules: TypeRules = field(default_factory=TypeRules)


def add_arguments(parser: argparse.ArgumentParser) -> None:
    g = parser.add_argument_group("tenant")
    g.add_argument("--tenant-id", required=True, help="directory (tenant) id or verified domain")
    g.add_argument("--client-id", required=True, help="application (client) id of the app")
    g.add_argument(
        "--authority-url",
        default="https://login.microsoftonline.com",
        help="token authority, https only (default: %(default)s)",
    )
    g.add_argument(
        "--graph-url",
        default="https://graph.microsoft.com",
        help="Microsoft Graph root (default: %(default)s; national clouds differ)",
    )
    a = parser.add_argument_group("authentication (client credentials: a secret or a certificate)")
    a.add_argument("--client-secret-env", help="environment variable holding the client secret")
    a.add_argument("--client-secret-file", help="file holding the client secret")
    a.add_argument(
        "--certificate-file",
        help="PEM file with the app certificate and its unencrypted private key",
    )
    t = add_transport_arguments(parser, TRANSPORT)
    t.add_argument(
        "--page-size", type=int, default=999, help="objects per page, 1-999 (default: %(default)s)"
    )
    t.add_argument(
        "--sign-in-activity",
        action=argparse.BooleanOptionalAction,
        default=None,
        help="read users' signInActivity (needs AuditLog.Read.All and Entra ID P1; default on)",
    )
    add_type_rule_arguments(
        parser.add_argument_group("mapping"), examples="service:attr=employeeType=^service$"
    )


def known_options() -> frozenset[str]:
    return option_names(add_arguments)


def parse_options(values: Mapping[str, object]) -> EntraOptions:
    options = Options("entra", values, known=known_options())
    tenant = options.required_str("tenant_id")
    if not _TENANT.match(tenant):
        raise options.error("tenant_id", "must be a tenant GUID or a domain name")
    client_id = options.required_str("client_id")
    if not _GUID.match(client_id):
        raise options.error("client_id", "must be the application (client) id, a GUID")
    secret = options.secret("client_secret_env", "client_secret_file")
    certificate = options.string("certificate_file")
    if bool(secret) == bool(certificate):
        raise UsageError(
            "entra: give one credential: 'client_secret_env', 'client_secret_file' "
            "or 'certificate_file'"
        )
    authority = options.url("authority_url", required=False) or "https://login.microsoftonline.com"
    if not authority.startswith("https://"):  # MSAL refuses any other scheme, loopback too
        raise options.error(
            "authority_url", "must be https:// (MSAL requires it, also on loopback)"
        )
    return EntraOptions(
        tenant_id=tenant,
        client_id=client_id,
        secret=secret,
        certificate_file=certificate,
        authority_url=authority,
        graph_url=options.url("graph_url", required=False) or "https://graph.microsoft.com",
        transport=parse_transport(options, TRANSPORT),
        page_size=options.integer("page_size", 999, low=1, high=999),
        sign_in_activity=options.boolean("sign_in_activity", True),
        type_rules=read_type_rules(options, conditions=NAME_AND_ATTR),
    )
