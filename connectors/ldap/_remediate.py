"""A write session on one directory for ``remediate apply``: the remediation bind only.

The options are the source's own (URL, base DN, TLS, timeout, profile) with the
credential options (``bind_dn``, ``password_env`` / ``password_file``) replaced
by the source's ``remediation:`` mapping, so the collection bind is never used
to write. The connection is the collector's (same TLS verification), opened
writable.

The write identity (its DN, its objectGUID / entryUUID, sAMAccountName, uid,
userPrincipalName) is resolved at open and never acted on; each action also
refuses an entry whose DN is the bind DN, whatever the plan says.
"""

from __future__ import annotations

import contextlib
from collections.abc import Mapping, Sequence
from typing import Any

from connectors.ldap._decode import all_text
from connectors.ldap._graph import norm_dn
from connectors.ldap._options import LdapOptions, parse_options
from policyengine.errors import ConnectorError

#: LDAP result codes (RFC 4511 4.1.9) an action tells apart
NO_SUCH_OBJECT = 32
NO_SUCH_ATTRIBUTE = 16
ATTRIBUTE_OR_VALUE_EXISTS = 20
UNWILLING_TO_PERFORM = 53


class LdapSession:
    """A bound, writable connection with the remediation credentials."""

    def __init__(self, options: LdapOptions, *, instance: str) -> None:
        from connectors.ldap._client import connect
        from connectors.ldap._collect import choose_profile
        from policyengine.secrets import read_secret

        self.options = options
        self.instance = instance
        password = read_secret(
            env=options.password_env, file=options.password_file, what="remediation bind password"
        )
        self.conn = connect(options, password, read_only=False)
        self.profile = choose_profile(self.conn, options).name
        self.bind_key = norm_dn(options.bind_dn) if "=" in options.bind_dn else ""
        self._identities = self._resolve_identities()

    @classmethod
    def open(cls, options: Mapping[str, Any], *, instance: str) -> LdapSession:
        return cls(parse_options(options), instance=instance)

    @property
    def active_directory(self) -> bool:
        return self.profile == "active_directory"

    def _resolve_identities(self) -> frozenset[str]:
        from connectors.ldap._collect import entry_id

        bind = self.options.bind_dn
        names = {bind}
        attrs: Sequence[str] = (
            "objectGUID", "entryUUID", "sAMAccountName", "uid", "cn", "userPrincipalName",
        )  # fmt: skip
        if "=" in bind:
            entry = self.read(bind, attrs)
            dn = bind
        else:  # AD: user@domain
            entry, dn = self._find_upn(bind, attrs)
        if entry is not None:
            names.add(dn)
            key = "objectGUID" if entry.get("objectGUID") else "entryUUID"
            if entry.get(key):
                names.add(entry_id(entry, key, dn))
            for attr in ("sAMAccountName", "uid", "userPrincipalName"):
                names.update(all_text(entry, attr))
            if not self.bind_key:
                self.bind_key = norm_dn(dn)
        return frozenset(n for n in names if n)

    def _find_upn(
        self, upn: str, attrs: Sequence[str]
    ) -> tuple[dict[str, list[bytes]] | None, str]:
        from ldap3 import SUBTREE
        from ldap3.utils.conv import escape_filter_chars

        self.conn.search(
            self.options.base_dn,
            f"(userPrincipalName={escape_filter_chars(upn)})",
            SUBTREE,
            attributes=list(attrs),
            size_limit=2,
        )
        found = [i for i in self.conn.response or () if i.get("type") == "searchResEntry"]
        if len(found) != 1:
            return None, ""
        return dict(found[0]["raw_attributes"]), str(found[0]["dn"])

    def protected_identities(self) -> frozenset[str]:
        return self._identities

    def close(self) -> None:
        with contextlib.suppress(Exception):
            self.conn.unbind()

    # -- what the actions use ------------------------------------------------------
    def refuse_self(self, dn: str) -> None:
        """Never write to the bind identity's own entry (the plan cannot override this)."""
        if self.bind_key and norm_dn(dn) == self.bind_key:
            raise ConnectorError(f"ldap: {dn!r} is the remediation bind identity; not acted on")

    def read(self, dn: str, attributes: Sequence[str]) -> dict[str, list[bytes]] | None:
        from connectors.ldap._client import read_entry

        return read_entry(self.conn, dn, attributes)

    def has_value(self, dn: str, attribute: str, value: str) -> bool | None:
        """Whether ``dn`` holds ``attribute=value`` (a base search with an equality filter,
        so a 5000-member group needs no ranged retrieval); None when ``dn`` is gone."""
        from ldap3 import BASE
        from ldap3.utils.conv import escape_filter_chars

        self.conn.search(
            dn, f"({attribute}={escape_filter_chars(value)})", BASE, attributes=["1.1"]
        )
        code = (self.conn.result or {}).get("result")
        if code == NO_SUCH_OBJECT:
            return None
        if code not in (0, None):
            raise ConnectorError(f"ldap: reading {dn!r} failed: {self._describe()}")
        return any(i.get("type") == "searchResEntry" for i in self.conn.response or ())

    def modify(self, dn: str, changes: Mapping[str, list[tuple[Any, list[Any]]]]) -> int:
        """One modify; returns the LDAP result code (0 ok), raises on transport errors."""
        from ldap3.core import exceptions as lx

        try:
            self.conn.modify(dn, dict(changes))
        except lx.LDAPException as exc:
            raise ConnectorError(f"ldap: modifying {dn!r} failed: {type(exc).__name__}") from None
        return int((self.conn.result or {}).get("result") or 0)

    def _describe(self) -> str:
        result = self.conn.result or {}
        return f"{result.get('description')} {result.get('message') or ''}".strip()

    def failed(self, what: str, dn: str) -> ConnectorError:
        return ConnectorError(f"ldap: {what} {dn!r} refused: {self._describe()}")
