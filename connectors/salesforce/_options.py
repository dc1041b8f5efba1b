"""Options of the Salesforce connector: command-line flags and ``policyengine.yaml`` keys.

The argparse ``dest`` names are the YAML keys: ``--login-url`` on the command
line is ``login_url:`` in a config instance.
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
    parse_type_rule,
    read_type_rules,
)
from policyengine.connector.options import Options, is_loopback, option_names
from policyengine.connector.transport import (
    Transport,
    TransportSpec,
    add_transport_arguments,
    parse_transport,
)
from policyengine.errors import UsageError

__all__ = ["SalesforceOptions", "add_arguments", "is_loopback", "parse_options"]

#: Salesforce keeps at most 10 query cursors open per user; each worker holds one.
MAX_CONCURRENCY = 10

TRANSPORT = TransportSpec(
    defaults=Transport(timeout=30.0, max_concurrency=4, max_attempts=5, retry_backoff=0.5),
    max_concurrency_limit=MAX_CONCURRENCY,
    concurrency_reason=" (Salesforce allows 10 open query cursors per user)",
    concurrency_help="queries in flight at once",
)

#: System permissions (``Permissions<Name>`` on PermissionSet) that make an account privileged.
DEFAULT_PRIVILEGED_PERMISSIONS = (
    "ModifyAllData",
    "ViewAllData",
    "ManageUsers",
    "AuthorApex",
    "CustomizeApplication",
)

#: Profiles whose users are integration (service) accounts.
DEFAULT_INTEGRATION_PROFILES = (
    "Minimum Access - API Only Integrations",
    "Salesforce API Only System Integrations",
)

_API_VERSION = re.compile(r"^\d{2,3}\.0$")


@dataclass(frozen=True, slots=True)
class SalesforceOptions:
    """Validated options for one Salesforce org."""

    login_url: str
    client_id: str
    username: str | None = None
    private_key_env: str | None = None
    private_key_file: str | None = None
    client_secret_env: str | None = None
    client_secret_file: str | None = None
    api_version: str = "62.0"
    transport: Transport = TRANSPORT.defaults
    privileged_permissions: tuple[str, ...] = DEFAULT_PRIVILEGED_PERMISSIONS
    integration_profiles: tuple[str, ...] = DEFAULT_INTEGRATION_PROFILES
    #: configured rules (``service_account_pattern`` first), then the defaults
    type_rules: TypeRules = field(default_factory=TypeRules)
    metadata: bool = True
    jwt_audience: str | None = None
    #: days of LoginHistory, AuthSession and Bulk API jobs summarised as ``activity``
    #: (0: not read); Salesforce keeps LoginHistory for six months
    activity_days: int = 30

    @property
    def audience(self) -> str:
        """The JWT ``aud``: the login URL unless ``--jwt-audience`` says otherwise."""
        return self.jwt_audience or self.login_url

    @property
    def flow(self) -> str:
        """``client_credentials`` or ``jwt_bearer``."""
        return "client_credentials" if self.client_secret_env or self.client_secret_file else "jwt"


def add_arguments(parser: argparse.ArgumentParser) -> None:
    """The connector's command-line options (``--instance``/``-o`` come from collect)."""
    g = parser.add_argument_group("org")
    g.add_argument(
        "--login-url",
        required=True,
        help="token endpoint host, e.g. https://login.salesforce.com or your My Domain URL",
    )
    g.add_argument("--client-id", required=True, help="connected app consumer key")
    g.add_argument("--username", help="JWT bearer flow: the user to act as")
    g.add_argument("--private-key-env", help="JWT: environment variable holding the PEM key")
    g.add_argument("--private-key-file", help="JWT: file holding the PEM private key")
    g.add_argument("--client-secret-env", help="client credentials: variable holding the secret")
    g.add_argument("--client-secret-file", help="client credentials: file holding the secret")
    g.add_argument(
        "--jwt-audience",
        help="JWT 'aud' claim when it differs from --login-url (e.g. https://login.salesforce.com "
        "while the token is requested from a My Domain URL)",
    )
    g.add_argument("--api-version", default="62.0", help="REST API version (default 62.0)")
    add_transport_arguments(parser, TRANSPORT)
    m = parser.add_argument_group("mapping")
    m.add_argument(
        "--privileged-permission",
        dest="privileged_permissions",
        action="append",
        metavar="NAME",
        help="system permission (without the Permissions prefix) that makes an account "
        f"privileged; repeatable (default: {', '.join(DEFAULT_PRIVILEGED_PERMISSIONS)})",
    )
    m.add_argument(
        "--integration-profile",
        dest="integration_profiles",
        action="append",
        metavar="NAME",
        help="profile whose users are service accounts; repeatable "
        f"(default: {'; '.join(DEFAULT_INTEGRATION_PROFILES)})",
    )
    m.add_argument(
        "--service-account-pattern",
        metavar="REGEX",
        help="usernames matching this regex are service accounts "
        "(the same as --type-rule 'service:name=REGEX', tried first)",
    )
    add_type_rule_arguments(
        m, examples="break_glass:name=^bg-, service:attr=Department=^Integration$"
    )
    m.add_argument(
        "--no-metadata",
        dest="metadata",
        action="store_false",
        default=True,
        help="skip the Metadata API (session settings, connected app OAuth policies, "
        "login IP ranges)",
    )
    m.add_argument(
        "--activity-days",
        type=int,
        metavar="DAYS",
        help="summarise the last DAYS of logins, live sessions and Bulk API query jobs "
        "per app, token and user (default 30, at most 180; 0 skips them)",
    )


def _names(options: Options, key: str, default: tuple[str, ...]) -> tuple[str, ...]:
    names = options.strings(key, default)
    return tuple(n.removeprefix("Permissions") for n in names) if names is not default else names


def known_options() -> frozenset[str]:
    """The ``dest`` names of :func:`add_arguments`: the keys a config instance may use."""
    return option_names(add_arguments)


def parse_options(values: Mapping[str, object]) -> SalesforceOptions:
    """Validate options keyed by dest name; raise UsageError naming the bad one."""
    options = Options("salesforce", values, known=known_options())
    login_url = options.url("login_url")
    client_id = options.required_str("client_id")
    username = options.string("username")
    key = options.secret("private_key_env", "private_key_file")
    secret = options.secret("client_secret_env", "client_secret_file")
    if key and secret:
        raise UsageError(
            "salesforce: give either a private key (JWT bearer flow) or a client secret "
            "(client credentials flow), not both"
        )
    if not key and not secret:
        raise UsageError(
            "salesforce: no credentials: pass --private-key-env/--private-key-file with "
            "--username (JWT bearer flow) or --client-secret-env/--client-secret-file "
            "(client credentials flow)"
        )
    if key and not username:
        raise UsageError("salesforce: the JWT bearer flow needs --username (option 'username')")
    api_version = str(values.get("api_version") or "62.0").removeprefix("v")
    if not _API_VERSION.match(api_version):
        raise options.error("api_version", f"must look like 62.0, got {api_version!r}")
    transport = parse_transport(options, TRANSPORT)
    return SalesforceOptions(
        login_url=login_url,
        client_id=client_id,
        username=username,
        private_key_env=key.env if key else None,
        private_key_file=key.file if key else None,
        client_secret_env=secret.env if secret else None,
        client_secret_file=secret.file if secret else None,
        api_version=api_version,
        transport=transport,
        privileged_permissions=_names(
            options, "privileged_permissions", DEFAULT_PRIVILEGED_PERMISSIONS
        ),
        integration_profiles=_names(options, "integration_profiles", DEFAULT_INTEGRATION_PROFILES),
        type_rules=_type_rules(options),
        metadata=options.boolean("metadata", True),
        activity_days=options.integer("activity_days", 30, low=0, high=180),
        jwt_audience=options.url("jwt_audience", required=False) or None,
    )


def _type_rules(options: Options) -> TypeRules:
    """``service_account_pattern`` is the first configured rule, ``service:name=REGEX``."""
    rules = read_type_rules(options, conditions=NAME_AND_ATTR)
    pattern = options.string("service_account_pattern")
    if not pattern:
        return rules
    first: TypeRule = parse_type_rule(
        f"service:name={pattern}",
        option="service_account_pattern",
        connector="salesforce",
        conditions=NAME_AND_ATTR,
    )
    return TypeRules((first, *rules.configured), rules.defaults)
