"""Options of the Google Workspace connector: command-line flags and ``policyengine.yaml`` keys.

``--api-url`` replaces the base URL of every Google API used (Directory and Cloud
Identity), for test servers and proxies; the token URL always comes from the key file.
"""

from __future__ import annotations

import argparse
from collections.abc import Mapping
from dataclasses import dataclass, field

from policyengine.connector.account_types import (
    NAME_AND_ATTR,
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

DIRECTORY_URL = "https://admin.googleapis.com"
CLOUD_IDENTITY_URL = "https://cloudidentity.googleapis.com"

#: What the domain-wide delegation must authorise: read-only scopes, except that the
#: Directory API's tokens and asps methods accept only ``admin.directory.user.security``.
SCOPES = (
    "https://www.googleapis.com/auth/admin.directory.user.readonly",
    "https://www.googleapis.com/auth/admin.directory.user.security",
    "https://www.googleapis.com/auth/admin.directory.rolemanagement.readonly",
    "https://www.googleapis.com/auth/admin.directory.group.readonly",
    "https://www.googleapis.com/auth/cloud-identity.policies.readonly",
)
#: The Reports API (OAuth grant and login audit events), asked for in a token of its
#: own: a delegation without it leaves only the activity summaries missing.
REPORTS_SCOPE = "https://www.googleapis.com/auth/admin.reports.audit.readonly"

TRANSPORT = TransportSpec(
    defaults=Transport(timeout=30.0, max_concurrency=8, max_attempts=5, retry_backoff=0.5),
    concurrency_help="per-user calls (tokens, app passwords) in flight at once",
)


@dataclass(frozen=True, slots=True)
class GoogleOptions:
    """Validated options for one Workspace tenant."""

    service_account_file: str
    subject: str
    customer: str = "my_customer"
    directory_url: str = DIRECTORY_URL
    cloud_identity_url: str = CLOUD_IDENTITY_URL
    transport: Transport = TRANSPORT.defaults
    #: days of Reports API audit events summarised (0: not read); Reports keeps 180
    activity_days: int = 30
    #: Google's per-user quota: ``quota`` calls per ``quota_window`` seconds (0: no pacing)
    quota: int = 2400
    quota_window: float = 60.0
    type_rules: TypeRules = field(default_factory=TypeRules)


def add_arguments(parser: argparse.ArgumentParser) -> None:
    a = parser.add_argument_group("authentication (a service account with domain-wide delegation)")
    a.add_argument(
        "--service-account-file",
        required=True,
        help="the service account's JSON key file (a secret: read, never copied or logged)",
    )
    a.add_argument("--subject", required=True, help="admin@DOMAIN: the admin to act as")
    g = parser.add_argument_group("tenant")
    g.add_argument("--customer", default="my_customer", help="customer id (default: %(default)s)")
    g.add_argument(
        "--api-url",
        help="base URL replacing every Google API's (tests, proxies; http only for loopback)",
    )
    g.add_argument(
        "--activity-days",
        type=int,
        metavar="DAYS",
        help="summarise the last DAYS of OAuth grant and login audit events from the "
        "Reports API per app and user (default 30, at most 180; 0 skips them)",
    )
    g.add_argument(
        "--quota",
        type=int,
        metavar="N",
        help="calls per quota window the connector paces itself to (default 2400, Google's "
        "default per-user quota; 0: no pacing, rely on the 403s)",
    )
    g.add_argument(
        "--quota-window",
        type=float,
        metavar="SECONDS",
        help="the window Google counts the per-user quota over (default 60: 2,400 queries "
        "per minute per user); a spent quota pauses every thread, never longer than this",
    )
    add_transport_arguments(parser, TRANSPORT)
    add_type_rule_arguments(
        parser.add_argument_group("mapping"), examples="service:attr=orgUnitPath=^/Service"
    )


def known_options() -> frozenset[str]:
    return option_names(add_arguments)


def parse_options(values: Mapping[str, object]) -> GoogleOptions:
    """Validate options (dest names) into :class:`GoogleOptions`; UsageError names the key."""
    options = Options("google", values, known=known_options())
    key_file = options.required_str("service_account_file")
    subject = options.required_str("subject")
    if "@" not in subject:
        raise UsageError(f"google: option 'subject': {subject!r} is not an email address")
    customer = options.string("customer") or "my_customer"
    if not customer.replace("_", "").isalnum():
        raise UsageError(f"google: option 'customer': {customer!r} is not a customer id")
    api_url = options.url("api_url", required=False, root="API", example="https://HOST")
    return GoogleOptions(
        service_account_file=key_file,
        subject=subject,
        customer=customer,
        directory_url=api_url or DIRECTORY_URL,
        cloud_identity_url=api_url or CLOUD_IDENTITY_URL,
        transport=parse_transport(options, TRANSPORT),
        activity_days=options.integer("activity_days", 30, low=0, high=180),
        quota=options.integer("quota", 2400, low=0, high=1_000_000),
        quota_window=options.number("quota_window", 60.0, low=0, high=3600, positive=True),
        type_rules=read_type_rules(options, conditions=NAME_AND_ATTR),
    )
