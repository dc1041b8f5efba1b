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
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlsplit

from policyengine.connector import is_loopback, option_names, option_str, refuse_unknown_options
from policyengine.errors import UsageError
from policyengine.model.kinds import ACCOUNT_TYPES
from policyengine.policy.regexsafety import Pattern, compile_regex
from policyengine.urls import refuse_userinfo

#: Okta Management API scopes the OAuth service app needs (Okta "OAuth 2.0 Scopes").
DEFAULT_SCOPES = (
    "okta.users.read",
    "okta.groups.read",
    "okta.roles.read",
    "okta.policies.read",
    "okta.apiTokens.read",
)
#: Logins that look like service accounts unless the rules say otherwise.
DEFAULT_TYPE_RULES = ("service:name=^(svc|service|api)[-_.]",)
_MAX_PATTERN = 500


@dataclass(frozen=True, slots=True)
class TypeRule:
    """``TYPE:name=REGEX``: accounts whose login matches get ``type``."""

    type: str
    pattern: Pattern


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
    timeout: float = 30.0
    max_concurrency: int = 8
    max_attempts: int = 5
    retry_backoff: float = 0.5
    ca_file: str | None = None
    page_size: int = 200
    type_rules: tuple[TypeRule, ...] = ()

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
        default=" ".join(DEFAULT_SCOPES),
        help="space-separated OAuth scopes (default: %(default)s)",
    )
    t = parser.add_argument_group("transport")
    t.add_argument("--ca-file", help="PEM CA bundle that signed the server certificate")
    t.add_argument("--timeout", type=float, default=30.0, help="network timeout in seconds")
    t.add_argument(
        "--max-concurrency",
        type=int,
        default=8,
        help="per-user calls in flight at once (default: %(default)s)",
    )
    t.add_argument(
        "--max-attempts", type=int, default=5, help="tries per request (default: %(default)s)"
    )
    t.add_argument(
        "--retry-backoff",
        type=float,
        default=0.5,
        help="base of the exponential backoff in seconds (default: %(default)s)",
    )
    t.add_argument(
        "--page-size", type=int, default=200, help="users per page, 1-200 (default: %(default)s)"
    )
    m = parser.add_argument_group("mapping")
    m.add_argument(
        "--type-rule",
        dest="type_rule",
        action="append",
        default=[],
        metavar="TYPE:name=REGEX",
        help="account type by login, e.g. break_glass:name=^bg-; first match wins",
    )
    m.add_argument(
        "--no-default-type-rules",
        dest="default_type_rules",
        action="store_false",
        default=True,
        help=f"drop the default rule {DEFAULT_TYPE_RULES[0]}",
    )


def _str(options: Mapping[str, Any], key: str, *, required: bool = False) -> str | None:
    return option_str("okta", options, key, required=required)


def _int(options: Mapping[str, Any], key: str, default: int, low: int, high: int) -> int:
    value = options.get(key, default)
    if value is None:
        return default
    if isinstance(value, bool) or not isinstance(value, int) or not low <= value <= high:
        raise UsageError(f"okta: option '{key}' must be an integer from {low} to {high}")
    return value


def _org_url(value: str) -> str:
    refuse_userinfo(value, "okta: option 'org_url'")
    parts = urlsplit(value)
    if parts.scheme not in ("https", "http") or not parts.hostname:
        raise UsageError(f"okta: option 'org_url': expected https://ORG.okta.com, got {value!r}")
    if parts.scheme == "http" and not is_loopback(parts.hostname):
        raise UsageError(
            f"okta: option 'org_url': plain http is refused for {parts.hostname} "
            "(only loopback test servers may use it); use https://"
        )
    if parts.path.strip("/") or parts.query or parts.username or parts.password:
        raise UsageError(f"okta: option 'org_url': give the org root only, got {value!r}")
    try:
        _ = parts.port
    except ValueError:
        raise UsageError(f"okta: option 'org_url': bad port in {value!r}") from None
    return f"{parts.scheme}://{parts.netloc}"


def parse_type_rules(rules: list[Any], *, defaults: bool) -> tuple[TypeRule, ...]:
    out = []
    for entry in [*rules, *(DEFAULT_TYPE_RULES if defaults else ())]:
        if not isinstance(entry, str) or ":name=" not in entry:
            raise UsageError(f"okta: option 'type_rule': expected TYPE:name=REGEX, got {entry!r}")
        rtype, _, pattern = entry.partition(":name=")
        if rtype not in ACCOUNT_TYPES:
            raise UsageError(
                f"okta: option 'type_rule': type {rtype!r} is not one of {', '.join(ACCOUNT_TYPES)}"
            )
        if not pattern or len(pattern) > _MAX_PATTERN:
            raise UsageError(f"okta: option 'type_rule': bad pattern length in {entry!r}")
        try:
            compiled = compile_regex(pattern, ignore_case=True)
        except ValueError as exc:
            raise UsageError(f"okta: option 'type_rule': {entry!r}: {exc}") from None
        out.append(TypeRule(rtype, compiled))
    return tuple(out)


def known_options() -> frozenset[str]:
    """The ``dest`` names of :func:`add_arguments`: the keys a config instance may use."""
    return option_names(add_arguments)


def parse_options(options: Mapping[str, Any]) -> OktaOptions:
    """Validate ``options`` (dest names) into :class:`OktaOptions`; UsageError names the key."""
    refuse_unknown_options("okta", options, known_options())
    org_url = _org_url(_str(options, "org_url", required=True) or "")
    token_env, token_file = _str(options, "token_env"), _str(options, "token_file")
    client_id = _str(options, "client_id")
    key_env, key_file = _str(options, "private_key_env"), _str(options, "private_key_file")
    ssws = bool(token_env or token_file)
    oauth = bool(client_id or key_env or key_file)
    if ssws and oauth:
        raise UsageError(
            "okta: give either an SSWS token (token_env/token_file) or an OAuth app "
            "(client_id + private_key_env/private_key_file), not both"
        )
    if not ssws and not oauth:
        raise UsageError(
            "okta: no credentials: give 'token_env' or 'token_file' (SSWS API token), or "
            "'client_id' with 'private_key_env' or 'private_key_file' (OAuth service app)"
        )
    if oauth and not client_id:
        raise UsageError("okta: option 'client_id' is required with a private key")
    if oauth and not (key_env or key_file):
        raise UsageError("okta: OAuth needs 'private_key_env' or 'private_key_file'")
    scopes_value = options.get("scopes") or " ".join(DEFAULT_SCOPES)
    if isinstance(scopes_value, str):
        scopes = tuple(scopes_value.replace(",", " ").split())
    elif isinstance(scopes_value, list | tuple):
        scopes = tuple(str(s) for s in scopes_value)
    else:
        raise UsageError("okta: option 'scopes' must be a string or a list")
    bad = [s for s in scopes if not re.fullmatch(r"[A-Za-z0-9_.:-]+", s)]
    if bad:
        raise UsageError(f"okta: option 'scopes': not a scope name: {bad[0]!r}")
    timeout = options.get("timeout", 30.0)
    if isinstance(timeout, bool) or not isinstance(timeout, int | float) or timeout <= 0:
        raise UsageError("okta: option 'timeout' must be a positive number of seconds")
    backoff = options.get("retry_backoff", 0.5)
    if isinstance(backoff, bool) or not isinstance(backoff, int | float) or not 0 <= backoff <= 60:
        raise UsageError("okta: option 'retry_backoff' must be from 0 to 60 seconds")
    rules = options.get("type_rule") or []
    if isinstance(rules, str):
        rules = [rules]
    return OktaOptions(
        org_url=org_url,
        token_env=token_env,
        token_file=token_file,
        client_id=client_id,
        private_key_env=key_env,
        private_key_file=key_file,
        key_id=_str(options, "key_id"),
        scopes=scopes,
        timeout=float(timeout),
        max_concurrency=_int(options, "max_concurrency", 8, 1, 64),
        max_attempts=_int(options, "max_attempts", 5, 1, 20),
        retry_backoff=float(backoff),
        ca_file=_str(options, "ca_file"),
        page_size=_int(options, "page_size", 200, 1, 200),
        type_rules=parse_type_rules(
            list(rules), defaults=bool(options.get("default_type_rules", True))
        ),
    )
