"""Options of the LDAP connector: command-line flags and ``policyengine.yaml`` keys.

The argparse ``dest`` names are the YAML keys, so ``--page-size 500`` on the
command line is ``page_size: 500`` in a config instance.
"""

from __future__ import annotations

import argparse
import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from urllib.parse import urlsplit

from connectors.ldap._types import TypeRule, parse_type_rules
from policyengine.connector.account_types import add_type_rule_arguments
from policyengine.connector.options import Options, is_loopback, option_names
from policyengine.connector.transport import Transport, TransportSpec, add_transport_arguments
from policyengine.connector.transport import parse_transport as read_transport
from policyengine.errors import UsageError

#: A directory call is one connection: no concurrency or retry options apply.
TRANSPORT = TransportSpec(keys=frozenset({"timeout", "ca_file"}), defaults=Transport(timeout=30.0))

PROFILES = ("auto", "openldap", "active_directory")

#: Normalised fields whose source attribute ``--map FIELD=ATTR`` can change.
MAPPABLE_FIELDS = (
    "id",
    "name",
    "email",
    "employee_id",
    "display_name",
    "created_at",
    "last_login_at",
    "disabled",
    "member",
    "member_of",
    "group_name",
    "owner",
)


@dataclass(frozen=True, slots=True)
class LdapOptions:
    """Validated options for one LDAP / AD instance."""

    url: str
    base_dn: str
    bind_dn: str
    password_env: str | None = None
    password_file: str | None = None
    profile: str = "auto"
    privileged_groups: tuple[str, ...] = ()
    ca_file: str | None = None
    starttls: bool = False
    tls_server_name: str | None = None
    allow_cleartext: bool = False
    page_size: int = 500
    timeout: float = 30.0
    attribute_map: Mapping[str, str] = field(default_factory=dict)
    user_filter: str | None = None
    group_filter: str | None = None
    type_rules: tuple[TypeRule, ...] = ()
    default_type_rules: bool = True
    ppolicy_default: str | None = None
    default_privileged_groups: bool = True

    @property
    def host(self) -> str:
        return urlsplit(self.url).hostname or ""

    @property
    def cleartext(self) -> bool:
        """True when the bind password and the directory data cross the network unencrypted."""
        return self.url.lower().startswith("ldap://") and not self.starttls


def add_arguments(parser: argparse.ArgumentParser) -> None:
    """The connector's command-line options (``--instance``/``-o`` come from collect)."""
    g = parser.add_argument_group("directory")
    g.add_argument("--url", required=True, help="ldap://host[:port] or ldaps://host[:port]")
    g.add_argument("--base-dn", required=True, help="search base, e.g. dc=example,dc=com")
    g.add_argument("--bind-dn", required=True, help="DN (or AD user@domain) to bind as")
    g.add_argument("--password-env", help="environment variable holding the bind password")
    g.add_argument("--password-file", help="file holding the bind password")
    g.add_argument(
        "--profile",
        choices=PROFILES,
        default="auto",
        help="directory flavour (default: detect from the root DSE)",
    )
    g.add_argument(
        "--privileged-group",
        dest="privileged_group",
        action="append",
        default=[],
        metavar="DN",
        help="a group whose (nested) members are privileged; repeatable. "
        "On AD the well-known admin groups (by SID) are always included",
    )
    g.add_argument(
        "--no-default-privileged-groups",
        dest="default_privileged_groups",
        action="store_false",
        default=True,
        help="AD: do not treat the well-known admin groups as privileged",
    )
    t = add_transport_arguments(parser, TRANSPORT)
    t.add_argument("--starttls", action="store_true", help="upgrade ldap:// with StartTLS")
    t.add_argument(
        "--allow-cleartext",
        action="store_true",
        help="permit plain ldap:// without StartTLS to a non-loopback host (the bind password "
        "crosses the network unencrypted; logged as a warning on every run)",
    )
    t.add_argument(
        "--tls-server-name",
        metavar="NAME",
        help="host name the server certificate must carry, when --url uses another "
        "(an IP address, a load balancer); verification stays on",
    )
    t.add_argument("--page-size", type=int, default=500, help="paged search page size")
    m = parser.add_argument_group("mapping")
    m.add_argument(
        "--map",
        dest="attribute_map",
        action="append",
        default=[],
        metavar="FIELD=ATTR",
        help=f"read FIELD from attribute ATTR ({', '.join(MAPPABLE_FIELDS)})",
    )
    m.add_argument("--user-filter", help="LDAP filter selecting accounts")
    m.add_argument("--group-filter", help="LDAP filter selecting groups")
    add_type_rule_arguments(
        m,
        examples="service:spn, break_glass:name=^bg-, service:ou=ou=services,dc=example,dc=com",
    )
    m.add_argument("--ppolicy-default", help="OpenLDAP: DN of the default ppolicy entry")


def _attribute_map(options: Options) -> dict[str, str]:
    value = options.values.get("attribute_map")
    pairs: dict[str, str] = {}
    items: list[tuple[str, object]]
    if isinstance(value, Mapping):
        items = [(str(k), v) for k, v in value.items()]
    else:
        items = []
        for entry in options.entries("attribute_map"):
            if not isinstance(entry, str) or "=" not in entry:
                raise UsageError(f"ldap: --map expects FIELD=ATTR, got {entry!r}")
            k, _, v = entry.partition("=")
            items.append((k.strip(), v.strip()))
    for key, attr in items:
        if key not in MAPPABLE_FIELDS:
            raise UsageError(
                f"ldap: option 'attribute_map': unknown field {key!r} "
                f"(one of {', '.join(MAPPABLE_FIELDS)})"
            )
        if not isinstance(attr, str) or not attr or not _is_attribute_name(attr):
            raise UsageError(
                f"ldap: option 'attribute_map': field {key!r} needs an attribute name, got {attr!r}"
            )
        pairs[key] = attr
    return pairs


def _is_attribute_name(name: str) -> bool:
    # RFC 4512 descr or numericoid, optionally with ;options
    base = name.split(";", 1)[0]
    return bool(base) and all(c.isalnum() or c in "-." for c in base)


def _dn(value: str, key: str) -> str:
    from ldap3.core.exceptions import LDAPInvalidDnError
    from ldap3.utils.dn import parse_dn

    try:
        parse_dn(re.sub(r"(?<!\\),\s+", ",", value.strip()))
    except LDAPInvalidDnError:
        raise UsageError(f"ldap: option '{key}': {value!r} is not a DN") from None
    return value


#: Every option key (argparse dest) this connector takes.
OPTION_KEYS = option_names(add_arguments)


def _refuse_what_ldap3_refuses(url: str) -> None:
    """ldap3 parses the URL again when it connects; what it refuses is a config error now.

    Otherwise it surfaced mid-scan as ``LDAPInvalidServerError:`` (an empty
    message) on an "incomplete" source, exit 3.
    """
    from ldap3 import NONE, Server
    from ldap3.core.exceptions import LDAPException

    try:
        Server(url, get_info=NONE)  # parses only: no connection is opened here
    except LDAPException as exc:
        reason = str(exc) or "not a host ldap3 can connect to"
        raise UsageError(f"ldap: option 'url': {url!r}: {reason}") from None


def parse_options(values: Mapping[str, object]) -> LdapOptions:
    """Validate options (dest names) into :class:`LdapOptions`; UsageError names the key."""
    options = Options("ldap", values, known=OPTION_KEYS)
    url = options.required_str("url")
    parts = options.split_url("url", url)
    if parts.scheme not in ("ldap", "ldaps") or not parts.hostname:
        raise options.error("url", f"expected ldap://host[:port] or ldaps://..., got {url!r}")
    _refuse_what_ldap3_refuses(url)
    starttls = options.boolean("starttls", False)
    if starttls and parts.scheme == "ldaps":
        raise UsageError("ldap: option 'starttls' makes no sense with an ldaps:// url")
    profile = options.choice("profile", PROFILES, "auto")
    page_size = options.integer("page_size", 500, low=1, high=100_000)
    transport = read_transport(options, TRANSPORT)
    password = options.secret("password_env", "password_file")
    if password is None:
        raise UsageError("ldap: give the bind password with 'password_env' or 'password_file'")
    groups = tuple(_dn(str(g), "privileged_group") for g in options.entries("privileged_group"))
    ppolicy_default = options.string("ppolicy_default")
    if ppolicy_default:
        _dn(ppolicy_default, "ppolicy_default")
    rules = parse_type_rules(options.entries("type_rule"))
    allow_cleartext = options.boolean("allow_cleartext", False)
    cleartext = parts.scheme == "ldap" and not starttls
    if cleartext and not allow_cleartext and not is_loopback(parts.hostname or ""):
        raise UsageError(
            f"ldap: option 'url': {url} would send the bind password in cleartext to "
            f"{parts.hostname}; use ldaps://, add starttls, or (knowingly) allow_cleartext"
        )
    return LdapOptions(
        url=url,
        base_dn=_dn(options.required_str("base_dn"), "base_dn"),
        bind_dn=options.required_str("bind_dn"),
        password_env=password.env,
        password_file=password.file,
        profile=profile,
        privileged_groups=groups,
        ca_file=transport.ca_file,
        starttls=starttls,
        tls_server_name=options.string("tls_server_name"),
        allow_cleartext=allow_cleartext,
        page_size=page_size,
        timeout=transport.timeout,
        attribute_map=_attribute_map(options),
        user_filter=_filter(options, "user_filter"),
        group_filter=_filter(options, "group_filter"),
        type_rules=rules,
        default_type_rules=options.boolean("default_type_rules", True),
        ppolicy_default=ppolicy_default,
        default_privileged_groups=options.boolean("default_privileged_groups", True),
    )


def _filter(options: Options, key: str) -> str | None:
    value = options.string(key)
    if value is None:
        return None
    value = value.strip()
    if not value.startswith("("):
        value = f"({value})"
    if value.count("(") != value.count(")"):
        raise UsageError(f"ldap: option '{key}': unbalanced parentheses in {value!r}")
    return value
