"""``owner`` of non-human accounts: the DN in ``manager`` (or the mapped attribute) -> its id.

A reference in a snapshot holds the target's ``id`` (objectGUID / entryUUID),
but the directory stores the owner as a DN. Accounts are streamed, so the
owner may not have been read yet: the DN is looked up with one base-scope
read, cached (service accounts share few owners). Only non-human accounts
get an ``owner`` (a human's ``manager`` is a reporting line, not ownership),
which keeps the look-ups to the service, shared and break-glass accounts.

An owner DN that does not exist (a deleted manager) gives no ``owner``:
missing, so "service accounts have an owner" reports it. ``raw`` keeps the
DN either way.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any

from connectors.ldap._decode import first_text
from connectors.ldap._graph import norm_dn

#: An account type whose ``owner`` is looked up; humans have managers, not owners.
OWNED_TYPES = frozenset({"service", "shared", "break_glass"})
#: Cached look-ups; past this, owners are still resolved, just not remembered.
CACHE_LIMIT = 10_000

#: ``read(dn) -> id or None``: the owner entry's id, None when it does not exist.
Reader = Callable[[str], str | None]


class OwnerResolver:
    """Turns an account's owner DN into the owner's id, one directory read per distinct DN."""

    def __init__(self, read: Reader) -> None:
        self._read = read
        self._cache: dict[str, str | None] = {}
        self.lookups = 0

    def owner_of(
        self, account_type: str, attrs: Mapping[str, list[bytes]], attribute: str | None
    ) -> str | None:
        """The owner id of one account, or None (human, no attribute, owner not found)."""
        if account_type not in OWNED_TYPES or not attribute:
            return None
        dn = first_text(attrs, attribute)
        if not dn:
            return None
        key = norm_dn(dn)
        if key in self._cache:
            return self._cache[key]
        self.lookups += 1
        owner = self._read(dn)
        if len(self._cache) < CACHE_LIMIT:
            self._cache[key] = owner
        return owner


def directory_reader(conn: Any, id_attribute: str) -> Reader:
    """A :data:`Reader` that reads the owner entry's id attribute from the server."""
    from connectors.ldap._client import read_entry
    from connectors.ldap._collect import entry_id

    def read(dn: str) -> str | None:
        entry = read_entry(conn, dn, [id_attribute])
        return None if entry is None else entry_id(entry, id_attribute, dn)

    return read
