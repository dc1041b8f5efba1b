"""Options of the Okta connector: command-line flags and ``policyengine.yaml`` keys.

The argparse ``dest`` names are the YAML keys: ``--page-size 200`` on the
command line is ``page_size: 200`` in a config instance.

Plain ``http://`` is refused except for loopback hosts (127.0.0.0/8, ::1,
localhost), which is what the test emulators use; there is no switch to
turn TLS verification off, only ``--ca-file`` to trust a private CA.
"""

from __future__ import annotations

import argparse
import re
from collections.abc import Mapping
from dataclasses import dataclass, field

from policyengine.connector.account_types import (
    NAME_AND_ATTR,
    TypeRule,
    TypeRules,
    add_type_rule_arguments,
    read_type_rules,
)
from policyengine.connector.options import Options, option_names
from policyengine.connector.transport import (
    Transport,
    TransportSpec,
    add_transport_arguments,
    parse_transport,
)
from policyengine.errors import UsageError

#: Okta Management API scopes the OAuth service app needs (Okta "OAuth 2.0 Scopes").
DEFAULT_SCOPES = (
    "okta.users.read",
    "okta.groups.read",
    "okta.roles.read",
    "okta.policies.read",
    "okta.apiTokens.read",
    "okta.apps.read",  # OIDC apps, their grants and client secrets' metadata
)
#: Type rules see the login (``name=``) and the profile attributes (``attr=userType=...``).
TYPE_CONDITIONS = NAME_AND_ATTR

TRANSPORT = TransportSpec(
    defaults=Transport(timeout=30.0, max_concurrency=8, max_attempts=5, retry_backoff=0.5),
    concurrency_help="per-user calls in flight at once",
)

__all__ = ["DEFAULT_SCOPES", "OktaOptions", "TypeRule", "add_arguments", "parse_options"]


@dataclass(frozen=True, slots=True)
class OktaOptions:
    """Validated options for one Okta org."""

    org_url: str
    token_env: str | None = None
    token_file: str | None = None
    client_id: str | None = None
    private_key_env: str | None = None
    private_key_file: str | None = None
    key_id: str | None = None
    scopes: tuple[str, ...] = DEFAULT_SCOPES
    transport: Transport = TRANSPORT.defaults
    page_size: int = 200
    type_rules: TypeRules = field(default_factory=TypeRules)
    #: read each active user's consent grants (one call per user: opt-in)
    user_grants: bool = False
    #: read each active user's OAuth refresh tokens (two calls or more per user: opt-in)
    refresh_tokens: bool = False
    #: System Log window in days (0: not read); pages of 1,000 events read at most
    log_days: int = 0
    log_max_pages: int = 20

    @property
    def oauth(self) -> bool:
        return self.client_id is not None


def add_arguments(parser: argparse.ArgumentParser) -> None:
    """The connector's command-line options (``--instance``/``-o`` come from collect)."""
    g = parser.add_argument_group("org")
    g.add_argument(
        "--org-url", required=True, help="https://ORG.okta.com (http only for loopback tests)"
    )
    a = parser.add_argument_group("authentication (an SSWS API token, or an OAuth service app)")
    a.add_argument("--token-env", help="environment variable holding an SSWS API token")
    a.add_argument("--token-file", help="file holding an SSWS API token")
    a.add_argument("--client-id", help="OAuth 2.0 service app client id (private_key_jwt)")
    a.add_argument(
        "--private-key-env", help="environment variable holding the app's private key (PEM or JWK)"
    )
    a.add_argument("--private-key-file", help="file holding the app's private key (PEM or JWK)")
    a.add_argument("--key-id", help="kid of the app's public key (default: from a JWK, else none)")
    a.add_argument(
        "--scopes",
        default=None,
        help="space-separated OAuth scopes (default: " + " ".join(DEFAULT_SCOPES) + ", "
        "plus okta.logs.read with --log-days)",
    )
    t = add_transport_arguments(parser, TRANSPORT)
    t.add_argument(
        "--page-size", type=int, default=200, help="users per page, 1-200 (default: %(default)s)"
    )
    t.add_argument(
        "--user-grants",
        action="store_true",
        default=None,
        help="also read each active user's OAuth consents (/api/v1/users/{id}/grants; "
        "one call per user, so off by default)",
    )
    t.add_argument(
        "--refresh-tokens",
        action="store_true",
        default=None,
        help="also read each active user's OAuth refresh tokens as credentials "
        "(/api/v1/users/{id}/clients and .../clients/{clientId}/tokens; at least one "
        "call per user, so off by default)",
    )
    t.add_argument(
        "--log-days",
        type=int,
        default=None,
        help="summarise the last N days of the System Log (sign-ins, consents, app changes) "
        "onto accounts and apps, 0-90 (default: 0, not read; needs okta.logs.read)",
    )
    t.add_argument(
        "--log-max-pages",
        type=int,
        default=None,
        help="System Log pages of 1,000 events to read at most; a window with more is "
        "reported incomplete (default: 20)",
    )
    m = parser.add_argument_group("mapping")
    add_type_rule_arguments(m, examples="break_glass:name=^bg-, service:attr=userType=^service$")


def parse_type_rules(rules: list[object], *, defaults: bool) -> TypeRules:
    """``--type-rule`` values, followed by the default rules when ``defaults``."""
    options = Options("okta", {"type_rule": rules, "default_type_rules": defaults})
    return read_type_rules(options, conditions=TYPE_CONDITIONS)


def known_options() -> frozenset[str]:
    """The ``dest`` names of :func:`add_arguments`: the keys a config instance may use."""
    return option_names(add_arguments)


def parse_options(values: Mapping[str, object]) -> OktaOptions:
    """Validate options (dest names) into :class:`OktaOptions`; UsageError names the key."""
    options = Options("okta", values, known=known_options())
    org_url = options.url("org_url", root="org", example="https://ORG.okta.com")
    token = options.secret("token_env", "token_file")
    client_id = options.string("client_id")
    key = options.secret("private_key_env", "private_key_file")
    oauth = bool(client_id or key)
    if token and oauth:
        raise UsageError(
            "okta: give either an SSWS token (token_env/token_file) or an OAuth app "
            "(client_id + private_key_env/private_key_file), not both"
        )
    if not token and not oauth:
        raise UsageError(
            "okta: no credentials: give 'token_env' or 'token_file' (SSWS API token), or "
            "'client_id' with 'private_key_env' or 'private_key_file' (OAuth service app)"
        )
    if oauth and not client_id:
        raise UsageError("okta: option 'client_id' is required with a private key")
    if oauth and not key:
        raise UsageError("okta: OAuth needs 'private_key_env' or 'private_key_file'")
    log_days = options.integer("log_days", 0, low=0, high=90)  # Okta keeps 90 days
    default_scopes = DEFAULT_SCOPES + (("okta.logs.read",) if log_days else ())
    scopes_value = values.get("scopes") or " ".join(default_scopes)
    if isinstance(scopes_value, str):
        scopes = tuple(scopes_value.replace(",", " ").split())
    elif isinstance(scopes_value, list | tuple):
        scopes = tuple(str(s) for s in scopes_value)
    else:
        raise UsageError("okta: option 'scopes' must be a string or a list")
    bad = [s for s in scopes if not re.fullmatch(r"[A-Za-z0-9_.:-]+", s)]
    if bad:
        raise UsageError(f"okta: option 'scopes': not a scope name: {bad[0]!r}")
    return OktaOptions(
        org_url=org_url,
        token_env=token.env if token else None,
        token_file=token.file if token else None,
        client_id=client_id,
        private_key_env=key.env if key else None,
        private_key_file=key.file if key else None,
        key_id=options.string("key_id"),
        scopes=scopes,
        transport=parse_transport(options, TRANSPORT),
        page_size=options.integer("page_size", 200, low=1, high=200),
        type_rules=read_type_rules(options, conditions=TYPE_CONDITIONS),
        user_grants=options.boolean("user_grants", False),
        refresh_tokens=options.boolean("refresh_tokens", False),
        log_days=log_days,
        log_max_pages=options.integer("log_max_pages", 20, low=1, high=1000),
    )
