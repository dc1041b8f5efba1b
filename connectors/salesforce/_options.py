"""Options of the Salesforce connector: command-line flags and ``policyengine.yaml`` keys.

The argparse ``dest`` names are the YAML keys: ``--login-url`` on the command
line is ``login_url:`` in a config instance.
"""

from __future__ import annotations

import argparse
import re
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlsplit

from policyengine.connector import is_loopback, option_names, option_str, refuse_unknown_options
from policyengine.errors import UsageError
from policyengine.policy.regexsafety import Pattern, compile_regex
from policyengine.urls import refuse_userinfo

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
    timeout: float = 30.0
    ca_file: str | None = None
    max_concurrency: int = 4
    privileged_permissions: tuple[str, ...] = DEFAULT_PRIVILEGED_PERMISSIONS
    integration_profiles: tuple[str, ...] = DEFAULT_INTEGRATION_PROFILES
    service_account_pattern: Pattern | None = None
    metadata: bool = True
    jwt_audience: str | None = None

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
    t = parser.add_argument_group("transport")
    t.add_argument("--timeout", type=float, default=30.0, help="network timeout in seconds")
    t.add_argument("--ca-file", help="PEM CA bundle to verify the server with")
    t.add_argument(
        "--max-concurrency", type=int, default=4, help="queries in flight at once (default 4)"
    )
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
        help="usernames matching this regex are service accounts",
    )
    m.add_argument(
        "--no-metadata",
        dest="metadata",
        action="store_false",
        default=True,
        help="skip the Metadata API (session settings, connected app OAuth policies, "
        "login IP ranges)",
    )


def _str(options: Mapping[str, Any], key: str, *, required: bool = False) -> str | None:
    return option_str("salesforce", options, key, required=required)


def _names(options: Mapping[str, Any], key: str, default: tuple[str, ...]) -> tuple[str, ...]:
    value = options.get(key)
    if value is None or value == []:
        return default
    if isinstance(value, str):
        value = [value]
    if not isinstance(value, list | tuple) or not all(isinstance(v, str) for v in value):
        raise UsageError(f"salesforce: option '{key}' must be a list of strings")
    return tuple(
        v.removeprefix("Permissions") if key == "privileged_permissions" else v for v in value
    )


def _number(options: Mapping[str, Any], key: str, default: float, *, minimum: float) -> float:
    value = options.get(key, default)
    if value is None:
        return default
    if isinstance(value, bool) or not isinstance(value, int | float):
        raise UsageError(f"salesforce: option '{key}' must be a number, got {value!r}")
    if value < minimum:
        raise UsageError(f"salesforce: option '{key}' must be at least {minimum}, got {value}")
    return float(value)


def check_url(url: str, what: str) -> str:
    """Return ``url`` without a trailing slash; https, or http to a loopback host (tests)."""
    refuse_userinfo(url, f"salesforce: {what}")
    parts = urlsplit(url)
    if parts.scheme not in ("https", "http") or not parts.hostname:
        raise UsageError(f"salesforce: {what} {url!r} is not an https:// URL")
    if parts.scheme == "http" and not is_loopback(parts.hostname):
        raise UsageError(
            f"salesforce: {what} {url!r} uses plain http; only https is allowed "
            "(http is accepted for loopback test servers only)"
        )
    if parts.query or parts.fragment:
        raise UsageError(f"salesforce: {what} {url!r} must not have a query or fragment")
    return url.rstrip("/")


def known_options() -> frozenset[str]:
    """The ``dest`` names of :func:`add_arguments`: the keys a config instance may use."""
    return option_names(add_arguments)


def parse_options(options: Mapping[str, Any]) -> SalesforceOptions:
    """Validate options keyed by dest name; raise UsageError naming the bad one."""
    refuse_unknown_options("salesforce", options, known_options())
    login_url = check_url(_str(options, "login_url", required=True) or "", "login_url")
    client_id = _str(options, "client_id", required=True) or ""
    username = _str(options, "username")
    key_env, key_file = _str(options, "private_key_env"), _str(options, "private_key_file")
    secret_env, secret_file = (
        _str(options, "client_secret_env"),
        _str(options, "client_secret_file"),
    )
    has_key, has_secret = bool(key_env or key_file), bool(secret_env or secret_file)
    if has_key and has_secret:
        raise UsageError(
            "salesforce: give either a private key (JWT bearer flow) or a client secret "
            "(client credentials flow), not both"
        )
    if not has_key and not has_secret:
        raise UsageError(
            "salesforce: no credentials: pass --private-key-env/--private-key-file with "
            "--username (JWT bearer flow) or --client-secret-env/--client-secret-file "
            "(client credentials flow)"
        )
    if has_key and not username:
        raise UsageError("salesforce: the JWT bearer flow needs --username (option 'username')")
    api_version = str(options.get("api_version") or "62.0").removeprefix("v")
    if not _API_VERSION.match(api_version):
        raise UsageError(
            f"salesforce: option 'api_version' must look like 62.0, got {api_version!r}"
        )
    pattern_text = _str(options, "service_account_pattern")
    pattern = None
    if pattern_text:
        if len(pattern_text) > 200:
            raise UsageError("salesforce: option 'service_account_pattern' is too long")
        try:
            pattern = compile_regex(pattern_text)
        except ValueError as exc:
            raise UsageError(
                f"salesforce: option 'service_account_pattern' is not a valid regex: {exc}"
            ) from None
    metadata = options.get("metadata", True)
    if not isinstance(metadata, bool):
        raise UsageError("salesforce: option 'metadata' must be true or false")
    return SalesforceOptions(
        login_url=login_url,
        client_id=client_id,
        username=username,
        private_key_env=key_env,
        private_key_file=key_file,
        client_secret_env=secret_env,
        client_secret_file=secret_file,
        api_version=api_version,
        timeout=_number(options, "timeout", 30.0, minimum=0.1),
        ca_file=_str(options, "ca_file"),
        max_concurrency=_concurrency(options),
        privileged_permissions=_names(
            options, "privileged_permissions", DEFAULT_PRIVILEGED_PERMISSIONS
        ),
        integration_profiles=_names(options, "integration_profiles", DEFAULT_INTEGRATION_PROFILES),
        service_account_pattern=pattern,
        metadata=metadata,
        jwt_audience=_audience(options),
    )


#: Salesforce keeps at most 10 query cursors open per user; each worker holds one.
MAX_CONCURRENCY = 10


def _concurrency(options: Mapping[str, Any]) -> int:
    value = int(_number(options, "max_concurrency", 4, minimum=1))
    if value > MAX_CONCURRENCY:
        raise UsageError(
            f"salesforce: option 'max_concurrency' must be at most {MAX_CONCURRENCY} "
            f"(Salesforce allows 10 open query cursors per user), got {value}"
        )
    return value


def _audience(options: Mapping[str, Any]) -> str | None:
    value = _str(options, "jwt_audience")
    return check_url(value, "jwt_audience") if value else None
