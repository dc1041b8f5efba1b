"""What differs between directory flavours, behind one small interface.

A profile names the attributes to read, the default filters and mapping,
decides which groups are privileged and adds its own account fields. The
shared work (paging, nesting, records) is in :mod:`connectors.ldap._collect`.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, ClassVar, Protocol

from connectors.ldap._graph import GroupInfo, Membership
from connectors.ldap._options import LdapOptions


class Profile(Protocol):
    name: ClassVar[str]
    #: field -> attribute defaults, overridden by ``--map``.
    default_mapping: ClassVar[Mapping[str, str]]
    default_user_filter: ClassVar[str]
    default_group_filter: ClassVar[str]

    def user_attributes(self, mapping: Mapping[str, str]) -> list[str]: ...

    def group_attributes(self, mapping: Mapping[str, str]) -> list[str]: ...

    def prepare(self, conn: Any, options: LdapOptions, collected_at: str) -> list[str]:
        """Read what the profile needs before the searches; return errors (missing data)."""
        ...

    def decorate_group(self, group: GroupInfo, attrs: Mapping[str, list[bytes]]) -> None: ...

    def privileged_roots(self, membership: Membership) -> dict[str, str]:
        """Default privileged groups found among the collected ones: key -> reason."""
        ...

    def transitive_members(
        self, conn: Any, roots: Mapping[str, GroupInfo], options: LdapOptions
    ) -> dict[str, set[str]] | None:
        """Server-side nested members per root (member key -> root names), if supported."""
        ...

    def extra_direct_groups(self, attrs: Mapping[str, list[bytes]]) -> list[str]:
        """Group keys the member lists do not show (AD: the primary group)."""
        ...

    def account_fields(self, dn: str, attrs: Mapping[str, list[bytes]]) -> dict[str, Any]:
        """Profile-specific normalised fields of one account."""
        ...


def with_mapped(base: list[str], mapping: Mapping[str, str]) -> list[str]:
    """``base`` plus the mapped attributes it lacks (case-insensitive), in order."""
    seen = {a.lower() for a in base}
    out = list(base)
    for attr in mapping.values():
        if attr.lower() not in seen:
            seen.add(attr.lower())
            out.append(attr)
    return out
