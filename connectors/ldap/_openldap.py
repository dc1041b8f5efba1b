"""OpenLDAP (and other RFC 4519 directories): memberOf, ppolicy, custom schemas.

There are no well-known privileged groups: only the configured
``--privileged-group`` DNs are privileged. Nested groups are resolved
client-side (the memberof overlay is direct-only). The password policy
(slapo-ppolicy) operational attributes give lock state and password age.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from typing import Any, ClassVar

from connectors.ldap._client import SearchStats, paged_search
from connectors.ldap._decode import first_int, first_text, generalized_to_iso
from connectors.ldap._graph import GroupInfo, Membership, norm_dn
from connectors.ldap._options import LdapOptions
from connectors.ldap._profile import with_mapped as _with_mapped
from policyengine.model.timestamps import parse_timestamp

#: ppolicy's "locked until an administrator unlocks it" value.
LOCKED_FOREVER = "000001010000Z"
_TRUE = {"true", "1", "yes", "y", "on", "disabled", "locked"}


class OpenLdapProfile:
    name: ClassVar[str] = "openldap"
    default_mapping: ClassVar[Mapping[str, str]] = {
        "id": "entryUUID",
        "name": "uid",
        "email": "mail",
        "employee_id": "employeeNumber",
        "display_name": "displayName",
        "created_at": "createTimestamp",
        "last_login_at": "pwdLastSuccess",
        "member": "member",
        "member_of": "memberOf",
        "group_name": "cn",
        "owner": "manager",  # of service / shared / break-glass accounts (a DN)
    }
    default_user_filter: ClassVar[str] = (
        "(|(objectClass=inetOrgPerson)(objectClass=posixAccount)(objectClass=account))"
    )
    default_group_filter: ClassVar[str] = (
        "(|(objectClass=groupOfNames)(objectClass=groupOfUniqueNames))"
    )

    def __init__(self) -> None:
        self.group_base: str | None = None
        # policy DN key -> (pwdMaxAge seconds, pwdLockoutDuration seconds)
        self.policies: dict[str, tuple[int, int]] = {}
        self.default_policy: str | None = None
        self.now: dt.datetime | None = None

    def user_attributes(self, mapping: Mapping[str, str]) -> list[str]:
        base = [
            "entryUUID",
            "uid",
            "cn",
            "displayName",
            "mail",
            "employeeNumber",
            "employeeType",
            "description",
            "objectClass",
            "createTimestamp",
            "modifyTimestamp",
            "memberOf",
            "pwdChangedTime",
            "pwdAccountLockedTime",
            "pwdPolicySubentry",
            "pwdFailureTime",
            "pwdLastSuccess",
            "pwdReset",
            "authTimestamp",
        ]
        return _with_mapped(base, mapping)

    def group_attributes(self, mapping: Mapping[str, str]) -> list[str]:
        base = ["entryUUID", "cn", "description", "createTimestamp", "member", "uniqueMember"]
        return _with_mapped(base, mapping)

    def prepare(self, conn: Any, options: LdapOptions, collected_at: str) -> list[str]:
        self.now = parse_timestamp(collected_at)
        self.default_policy = norm_dn(options.ppolicy_default) if options.ppolicy_default else None
        stats = SearchStats()
        for dn, attrs in paged_search(
            conn,
            options.base_dn,
            "(objectClass=pwdPolicy)",
            ["pwdMaxAge", "pwdLockoutDuration"],
            page_size=options.page_size,
            stats=stats,
            what="password policies",
        ):
            self.policies[norm_dn(dn)] = (
                first_int(attrs, "pwdMaxAge") or 0,
                first_int(attrs, "pwdLockoutDuration") or 0,
            )
        if self.default_policy and self.default_policy not in self.policies:
            return [f"ldap: password policy {options.ppolicy_default!r} not found or not readable"]
        return []

    def decorate_group(self, group: GroupInfo, attrs: Mapping[str, list[bytes]]) -> None:
        return None

    def privileged_roots(self, membership: Membership) -> dict[str, str]:
        return {}

    def transitive_members(
        self, conn: Any, roots: Mapping[str, GroupInfo], options: LdapOptions
    ) -> dict[str, set[str]] | None:
        return None  # no IN_CHAIN rule in OpenLDAP: client-side only

    def extra_direct_groups(self, attrs: Mapping[str, list[bytes]]) -> list[str]:
        return []

    def account_fields(self, dn: str, attrs: Mapping[str, list[bytes]]) -> dict[str, Any]:
        fields: dict[str, Any] = {}
        locked_raw = first_text(attrs, "pwdAccountLockedTime")
        policy_key = first_text(attrs, "pwdPolicySubentry")
        policy = self.policies.get(norm_dn(policy_key)) if policy_key else None
        if policy is None and not policy_key and self.default_policy:
            policy = self.policies.get(self.default_policy)
        locked = False
        if locked_raw:
            if locked_raw == LOCKED_FOREVER:
                locked = True
                fields["enabled"] = False  # administratively locked: the ppolicy "disabled"
            else:
                locked = self._still_locked(locked_raw, policy)
                fields["locked_at"] = generalized_to_iso(locked_raw)
        fields["locked"] = locked
        changed = first_text(attrs, "pwdChangedTime")
        if changed:
            fields["password_last_set_at"] = generalized_to_iso(changed)
        if policy is not None:
            fields["password_never_expires"] = policy[0] == 0
        if first_text(attrs, "pwdReset") == "TRUE":
            fields["password_must_change"] = True
        if policy_key:
            fields["password_policy"] = policy_key
        return fields

    def _still_locked(self, locked_raw: str, policy: tuple[int, int] | None) -> bool:
        duration = policy[1] if policy else 0
        if not duration or self.now is None:
            return True  # no duration: locked until reset
        iso = generalized_to_iso(locked_raw)
        if iso is None:
            return True
        return parse_timestamp(iso) + dt.timedelta(seconds=duration) > self.now


def is_disabled_value(value: str | None) -> bool:
    """A mapped ``disabled`` attribute's value means disabled (TRUE, 1, yes, ...)."""
    return value is not None and value.strip().lower() in _TRUE
