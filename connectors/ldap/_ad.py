"""Active Directory (and Samba AD DC): SIDs, userAccountControl, FILETIME, delegation.

Privileged groups are found by well-known SID, never by name (names are
localised): the domain groups by RID under the domain SID, the builtin ones
by their fixed ``S-1-5-32-*`` SIDs. Nested membership is asked of the server
with the LDAP_MATCHING_RULE_IN_CHAIN rule (1.2.840.113556.1.4.1941) and also
resolved client-side, which covers the primary group that ``memberOf`` and
``member`` leave out.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, ClassVar

from connectors.ldap._client import SearchStats, paged_search, read_entry
from connectors.ldap._decode import (
    UAC_BITS,
    all_text,
    encryption_types,
    filetime_to_iso,
    first_int,
    sid_to_str,
    uac_flags,
)
from connectors.ldap._graph import GroupInfo, Membership, norm_dn
from connectors.ldap._options import LdapOptions
from connectors.ldap._profile import with_mapped as _with_mapped

IN_CHAIN = "1.2.840.113556.1.4.1941"

#: RID -> name of the domain groups that are privileged by default.
DOMAIN_RIDS: dict[int, str] = {
    512: "Domain Admins",
    518: "Schema Admins",
    519: "Enterprise Admins",
    526: "Key Admins",
    527: "Enterprise Key Admins",
}
#: Forest-root groups: privileged whatever domain SID they carry.
FOREST_RIDS = frozenset({519, 527})
#: Builtin (S-1-5-32-*) groups that are privileged by default.
BUILTIN_SIDS: dict[str, str] = {
    "S-1-5-32-544": "Administrators",
    "S-1-5-32-548": "Account Operators",
    "S-1-5-32-549": "Server Operators",
    "S-1-5-32-550": "Print Operators",
    "S-1-5-32-551": "Backup Operators",
}

_UF_LOCKOUT = UAC_BITS["LOCKOUT"]
_UF_PASSWORD_EXPIRED = UAC_BITS["PASSWORD_EXPIRED"]
_SECURITY_GROUP = 0x80000000


class ActiveDirectoryProfile:
    name: ClassVar[str] = "active_directory"
    default_mapping: ClassVar[Mapping[str, str]] = {
        "id": "objectGUID",
        "name": "sAMAccountName",
        "email": "mail",
        "employee_id": "employeeID",
        "display_name": "displayName",
        "created_at": "whenCreated",
        "last_login_at": "lastLogonTimestamp",
        "member": "member",
        "member_of": "memberOf",
        "group_name": "sAMAccountName",
        "owner": "manager",  # of service / shared / break-glass accounts (a DN)
    }
    default_user_filter: ClassVar[str] = "(&(objectCategory=person)(objectClass=user))"
    default_group_filter: ClassVar[str] = "(objectClass=group)"

    def __init__(self) -> None:
        self.domain_dn: str | None = None
        self.domain_sid: str | None = None
        self.logon_sync_days: int | None = None
        self._by_sid: dict[str, str] = {}

    # -- attributes ------------------------------------------------------------
    def user_attributes(self, mapping: Mapping[str, str]) -> list[str]:
        base = [
            "objectGUID",
            "objectSid",
            "sAMAccountName",
            "userPrincipalName",
            "cn",
            "displayName",
            "mail",
            "employeeID",
            "employeeNumber",
            "description",
            "userAccountControl",
            "msDS-User-Account-Control-Computed",
            "lockoutTime",
            "pwdLastSet",
            "lastLogonTimestamp",
            "accountExpires",
            "whenCreated",
            "whenChanged",
            "adminCount",
            "servicePrincipalName",
            "msDS-AllowedToDelegateTo",
            "msDS-AllowedToActOnBehalfOfOtherIdentity",
            "msDS-SupportedEncryptionTypes",
            "primaryGroupID",
            "memberOf",
        ]
        return _with_mapped(base, mapping)

    def group_attributes(self, mapping: Mapping[str, str]) -> list[str]:
        base = [
            "objectGUID",
            "objectSid",
            "sAMAccountName",
            "cn",
            "description",
            "groupType",
            "adminCount",
            "whenCreated",
            "member",
        ]
        return _with_mapped(base, mapping)

    # -- before the searches ------------------------------------------------
    def prepare(self, conn: Any, options: LdapOptions, collected_at: str) -> list[str]:
        root = read_entry(conn, "", ["defaultNamingContext"]) or {}
        default_nc = all_text(root, "defaultNamingContext")
        self.domain_dn = default_nc[0] if default_nc else options.base_dn
        head = read_entry(conn, self.domain_dn, ["objectSid", "msDS-LogonTimeSyncInterval"])
        if not head or not head.get("objectSid"):
            return [
                f"ldap: cannot read the domain SID from {self.domain_dn!r}; "
                "well-known privileged groups cannot be identified"
            ]
        self.domain_sid = sid_to_str(head["objectSid"][0])
        self.logon_sync_days = first_int(head, "msDS-LogonTimeSyncInterval") or 14
        return []

    @property
    def group_base(self) -> str | None:
        """Groups are read from the whole domain so that Builtin and Users are seen."""
        return self.domain_dn

    def decorate_group(self, group: GroupInfo, attrs: Mapping[str, list[bytes]]) -> None:
        sid_raw = attrs.get("objectSid")
        if sid_raw:
            group.sid = sid_to_str(sid_raw[0])
            group.rid = int(group.sid.rsplit("-", 1)[1])
            self._by_sid[group.sid] = norm_dn(group.dn)
        gtype = first_int(attrs, "groupType")
        if gtype is not None:
            group.extra["security"] = bool(gtype & _SECURITY_GROUP)

    def privileged_roots(self, membership: Membership) -> dict[str, str]:
        roots: dict[str, str] = {}
        for key, group in membership.iter_groups():
            sid = group.sid
            if not sid:
                continue
            if sid in BUILTIN_SIDS:
                roots[key] = f"well-known SID {sid} ({BUILTIN_SIDS[sid]})"
            elif group.rid in DOMAIN_RIDS and (
                sid == f"{self.domain_sid}-{group.rid}"
                or (group.rid in FOREST_RIDS and sid.startswith("S-1-5-21-"))
            ):
                roots[key] = f"well-known RID {group.rid} ({DOMAIN_RIDS[group.rid]})"
        return roots

    def transitive_members(
        self, conn: Any, roots: Mapping[str, GroupInfo], options: LdapOptions
    ) -> dict[str, set[str]] | None:
        from ldap3.utils.conv import escape_filter_chars

        found: dict[str, set[str]] = {}
        stats = SearchStats()
        base = self.domain_dn or options.base_dn
        for group in roots.values():
            # The DN comes from the server, but it may hold ( ) * \ : escape it.
            flt = f"({'memberOf'}:{IN_CHAIN}:={escape_filter_chars(group.dn)})"
            for dn, _ in paged_search(
                conn,
                base,
                flt,
                ["1.1"],
                page_size=options.page_size,
                stats=stats,
                what=f"nested members of {group.name}",
            ):
                found.setdefault(norm_dn(dn), set()).add(group.name)
        return found

    def extra_direct_groups(self, attrs: Mapping[str, list[bytes]]) -> list[str]:
        rid = first_int(attrs, "primaryGroupID")
        if rid is None or not self.domain_sid:
            return []
        key = self._by_sid.get(f"{self.domain_sid}-{rid}")
        return [key] if key else []

    # -- accounts --------------------------------------------------------------
    def account_fields(self, dn: str, attrs: Mapping[str, list[bytes]]) -> dict[str, Any]:
        uac = first_int(attrs, "userAccountControl") or 0
        computed = first_int(attrs, "msDS-User-Account-Control-Computed")
        bits = uac | ((computed or 0) & (_UF_LOCKOUT | _UF_PASSWORD_EXPIRED))
        flags = uac_flags(bits)
        if computed is not None:
            locked = bool(computed & _UF_LOCKOUT)
        else:
            locked = bool(first_int(attrs, "lockoutTime"))
        spns = all_text(attrs, "servicePrincipalName")
        fields: dict[str, Any] = {
            "enabled": not uac & UAC_BITS["ACCOUNTDISABLE"],
            "locked": locked,
            "flags": flags,
            "password_never_expires": bool(uac & UAC_BITS["DONT_EXPIRE_PASSWORD"]),
            "password_not_required": bool(uac & UAC_BITS["PASSWD_NOTREQD"]),
            "kerberos_preauth_required": not uac & UAC_BITS["DONT_REQ_PREAUTH"],
            "spns": spns,
            "delegation": {
                "unconstrained": bool(uac & UAC_BITS["TRUSTED_FOR_DELEGATION"]),
                "constrained_to": all_text(attrs, "msDS-AllowedToDelegateTo"),
                "protocol_transition": bool(uac & UAC_BITS["TRUSTED_TO_AUTH_FOR_DELEGATION"]),
                "resource_based": bool(attrs.get("msDS-AllowedToActOnBehalfOfOtherIdentity")),
            },
        }
        pwd_last_set = first_int(attrs, "pwdLastSet")
        if pwd_last_set == 0:
            fields["password_must_change"] = True  # pwdLastSet 0: change at next logon
        elif pwd_last_set is not None:
            fields["password_last_set_at"] = filetime_to_iso(pwd_last_set)
        expires = attrs.get("accountExpires")
        expires_at = filetime_to_iso(expires[0]) if expires else None
        if expires_at:  # 0 and 0x7FFF... mean never: leave it absent
            fields["expires_at"] = expires_at
        admin_count = first_int(attrs, "adminCount")
        if admin_count is not None:
            fields["admin_count"] = admin_count
        enc = first_int(attrs, "msDS-SupportedEncryptionTypes")
        if enc is not None:
            fields["supported_encryption_types"] = encryption_types(enc)
        sid_raw = attrs.get("objectSid")
        if sid_raw:
            fields["sid"] = sid_to_str(sid_raw[0])
        pgid = first_int(attrs, "primaryGroupID")
        if pgid is not None:
            fields["primary_group_id"] = pgid
        if uac & UAC_BITS["SMARTCARD_REQUIRED"]:
            # The only MFA a directory can see: a smart card is required to log on.
            fields["mfa"] = {"enrolled": True, "methods": ["smartcard"], "phishing_resistant": True}
        upn = all_text(attrs, "userPrincipalName")
        if upn:
            fields["upn"] = upn[0]
        return fields
