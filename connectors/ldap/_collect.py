"""One collection: groups first (held in memory), then accounts (streamed), then
the groups' member lists (read back from the disk spool).

Order matters for memory: accounts are written as they arrive, so memory
depends on the number of groups and one page of entries, not on the number
of accounts.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from connectors.ldap._ad import ActiveDirectoryProfile
from connectors.ldap._client import SearchStats, paged_search, read_entry
from connectors.ldap._decode import (
    all_text,
    filetime_to_iso,
    first_text,
    generalized_to_iso,
    guid_to_str,
    raw_attributes,
    text,
)
from connectors.ldap._graph import GroupInfo, Membership, norm_dn
from connectors.ldap._openldap import OpenLdapProfile, is_disabled_value
from connectors.ldap._options import LdapOptions
from connectors.ldap._owner import OwnerResolver, directory_reader
from connectors.ldap._profile import Profile
from connectors.ldap._types import DEFAULT_RULES, infer_type
from policyengine.connector.contract import SnapshotSink
from policyengine.log import get_logger

_log = get_logger("connectors.ldap")
AD_CAPABILITY = "1.2.840.113556.1.4.800"  # LDAP_CAP_ACTIVE_DIRECTORY_OID
#: Group entries carry their whole member list: fewer per page bounds memory.
GROUP_PAGE_SIZE = 25


def choose_profile(conn: Any, options: LdapOptions) -> Profile:
    """The configured profile, or the one the root DSE announces."""
    if options.profile == "active_directory":
        return ActiveDirectoryProfile()
    if options.profile == "openldap":
        return OpenLdapProfile()
    root = read_entry(conn, "", ["supportedCapabilities"]) or {}
    if AD_CAPABILITY in all_text(root, "supportedCapabilities"):
        return ActiveDirectoryProfile()
    return OpenLdapProfile()


def to_iso(value: bytes | None) -> str | None:
    """A time attribute in either encoding: FILETIME digits or GeneralizedTime."""
    if not value:
        return None
    if value.isdigit() and len(value) >= 15:
        return filetime_to_iso(value)
    return generalized_to_iso(value)


def entry_id(attrs: Mapping[str, list[bytes]], attr: str, dn: str) -> str:
    """The stable id: objectGUID / entryUUID (or the mapped attribute), else the DN."""
    values = attrs.get(attr)
    if values:
        value = values[0]
        if attr.lower() == "objectguid" and len(value) == 16:
            return guid_to_str(value)
        decoded = text(value)
        if decoded:
            return decoded
        return value.hex()
    return dn


def _member_values(conn: Any, dn: str, attrs: Mapping[str, list[bytes]], name: str) -> list[str]:
    """Member DNs of a group, following AD ranged retrieval (``member;range=0-1499``)."""
    out: list[str] = []
    for attr, values in attrs.items():
        low = attr.lower()
        if low.split(";", 1)[0] != name:
            continue
        out.extend(_member_dn(v) for v in values)
        if ";range=" in low:
            out.extend(_more_range(conn, dn, attr.split(";", 1)[0], low.rsplit("-", 1)[1]))
    return out


def _more_range(conn: Any, dn: str, attr: str, end: str) -> list[str]:
    out: list[str] = []
    while end != "*":
        start = int(end) + 1
        entry = read_entry(conn, dn, [f"{attr};range={start}-*"]) or {}
        got = [(k, v) for k, v in entry.items() if k.lower().startswith(attr.lower() + ";range=")]
        if not got:
            break
        key, values = got[0]
        out.extend(_member_dn(v) for v in values)
        end = key.rsplit("-", 1)[1]
    return out


def _member_dn(value: bytes) -> str:
    dn = value.decode("utf-8", "replace")
    # uniqueMember may carry an optional UID: "cn=x,dc=y#'0101'B"
    if dn.endswith("'B") and "#'" in dn:
        dn = dn[: dn.rindex("#'")]
    return dn


class Collection:
    """Collect one directory into a writer. Call :meth:`run`."""

    def __init__(self, conn: Any, options: LdapOptions, writer: SnapshotSink) -> None:
        self.conn = conn
        self.options = options
        self.writer = writer
        self.profile = choose_profile(conn, options)
        self.mapping: dict[str, str] = {**self.profile.default_mapping, **options.attribute_map}
        self.rules = options.type_rules + (DEFAULT_RULES if options.default_type_rules else ())
        self.stats = SearchStats()
        self.membership = Membership()
        self.roots: dict[str, str] = {}  # privileged root group key -> its name
        self.server_side: dict[str, set[str]] | None = None
        self.duplicates = 0
        self.owners = OwnerResolver(directory_reader(conn, self.mapping["id"]))

    def run(self) -> None:
        try:
            self._run()
        finally:
            self.membership.close()

    def _run(self) -> None:
        opts = self.options
        self.writer.extra_source["profile"] = self.profile.name
        # remediation never acts on the bind identity (plans match it against dn and upn)
        self.writer.extra_source["collected_as"] = [opts.bind_dn]
        for error in self.profile.prepare(self.conn, opts, self.writer.collected_at):
            self.writer.fail(error)
        if isinstance(self.profile, ActiveDirectoryProfile) and self.profile.logon_sync_days:
            # lastLogonTimestamp replicates only when older than this (minus up to 5 days).
            self.writer.extra_source["last_login_lag_days"] = self.profile.logon_sync_days
        self._collect_groups()
        self._find_privileged()
        self._collect_accounts()
        self._write_groups()
        if self.duplicates > 10:
            self.writer.fail(f"ldap: {self.duplicates} entries in all had a duplicate id")
        if self.stats.referrals:
            refs = sorted(set(self.stats.referrals))
            self.writer.extra_source["referrals_not_followed"] = refs[:50]
            _log.warning("ldap.referrals_not_followed", count=len(refs), first=refs[:5])

    # -- groups ------------------------------------------------------------------
    def _collect_groups(self) -> None:
        opts, mapping = self.options, self.mapping
        member_names = [mapping["member"].lower()]
        if isinstance(self.profile, OpenLdapProfile) and "member" not in opts.attribute_map:
            member_names.append("uniquemember")  # groupOfUniqueNames; memberOf ignores it
        base = getattr(self.profile, "group_base", None) or opts.base_dn
        group_filter = opts.group_filter or self.profile.default_group_filter
        for dn, attrs in paged_search(
            self.conn,
            base,
            group_filter,
            self.profile.group_attributes(mapping),
            page_size=min(opts.page_size, GROUP_PAGE_SIZE),
            stats=self.stats,
            what="group",
        ):
            members = _member_values(self.conn, dn, attrs, member_names[0])
            name = first_text(attrs, mapping["group_name"]) or first_text(attrs, "cn") or dn
            raw = raw_attributes(
                {k: v for k, v in attrs.items() if k.lower().split(";", 1)[0] not in member_names}
            )
            raw["dn"] = dn
            group = GroupInfo(dn=dn, id=entry_id(attrs, mapping["id"], dn), name=name, raw=raw)
            self.profile.decorate_group(group, attrs)
            key = norm_dn(dn)
            self.membership.add_group(key, group, members)
            if len(member_names) > 1:
                self.membership.add_uncovered(
                    key, _member_values(self.conn, dn, attrs, member_names[1])
                )
        self.membership.finish_groups()
        for cycle in self.membership.cycles:
            names = [self.membership.groups[k].name for k in cycle]
            _log.warning("ldap.group_cycle", groups=" -> ".join(names))

    def _find_privileged(self) -> None:
        opts, groups = self.options, self.membership.groups
        reasons: dict[str, str] = {}
        if opts.default_privileged_groups:
            reasons.update(self.profile.privileged_roots(self.membership))
        for dn in opts.privileged_groups:
            key = norm_dn(dn)
            if key in groups:
                reasons[key] = "configured"
            else:
                self.writer.fail(
                    f"ldap: configured privileged group {dn!r} is not among the groups read "
                    f"(filter {opts.group_filter or self.profile.default_group_filter}); "
                    "its members cannot be marked privileged"
                )
        self.roots = {k: groups[k].name for k in reasons}
        _log.info(
            "ldap.privileged_groups",
            groups=sorted(f"{groups[k].name} ({why})" for k, why in reasons.items()),
        )
        self.server_side = self.profile.transitive_members(
            self.conn, {k: groups[k] for k in self.roots}, opts
        )

    # -- accounts ----------------------------------------------------------------
    def _direct_groups(
        self, key: str, attrs: Mapping[str, list[bytes]], use_member_of: bool
    ) -> list[str]:
        if use_member_of:
            direct = [norm_dn(v) for v in all_text(attrs, self.mapping["member_of"])]
            direct += self.membership.not_in_member_of.get(key, ())
        else:
            direct = self.membership.direct_groups_of(key)
        for extra in self.profile.extra_direct_groups(attrs):
            if extra not in direct:
                direct.append(extra)
                self.membership.add_edge(extra, key)
        return direct

    def _use_member_of(self) -> bool:
        """AD always keeps memberOf; on OpenLDAP ask one member whether the overlay runs."""
        if isinstance(self.profile, ActiveDirectoryProfile):
            return True
        attr = self.mapping["member_of"]
        for member in self.membership.sample_members():
            entry = read_entry(self.conn, member, [attr])
            if entry is None:
                continue
            present = bool(entry.get(attr) or any(k.lower() == attr.lower() for k in entry))
            _log.info("ldap.memberof_overlay", present=present, probe=member)
            return present
        return False

    def _collect_accounts(self) -> None:
        opts, mapping, membership = self.options, self.mapping, self.membership
        use_member_of = self._use_member_of()
        root_keys = frozenset(self.roots)
        server_side = self.server_side or {}
        user_filter = opts.user_filter or self.profile.default_user_filter
        is_openldap = isinstance(self.profile, OpenLdapProfile)
        disabled_attr = mapping.get("disabled")
        for dn, attrs in paged_search(
            self.conn,
            opts.base_dn,
            user_filter,
            self.profile.user_attributes(mapping),
            page_size=opts.page_size,
            stats=self.stats,
            what="account",
        ):
            key = norm_dn(dn)
            eff_keys, eff_ids = membership.effective(self._direct_groups(key, attrs, use_member_of))
            via = {self.roots[k] for k in eff_keys & root_keys}
            if key in server_side:
                via |= server_side[key]
            name = first_text(attrs, mapping["name"]) or first_text(attrs, "cn") or dn
            spns = attrs.get("servicePrincipalName")
            account_id = entry_id(attrs, mapping["id"], dn)
            record: dict[str, Any] = {
                "kind": "account",
                "id": account_id,
                "name": name,
                "type": infer_type(self.rules, name=name, dn=dn, has_spn=bool(spns), attrs=attrs),
                "dn": dn,
                "enabled": True,
                "privileged": bool(via),
                "privileged_via": sorted(via),
                "groups": eff_ids,
            }
            _put(record, "owner", self.owners.owner_of(record["type"], attrs, mapping.get("owner")))
            _put(record, "email", first_text(attrs, mapping["email"]))
            employee_id = first_text(attrs, mapping["employee_id"])
            if employee_id is None and "employee_id" not in opts.attribute_map:
                employee_id = first_text(attrs, "employeeNumber")
            _put(record, "employee_id", employee_id)
            _put(record, "display_name", first_text(attrs, mapping["display_name"]))
            _put(record, "created_at", to_iso(_first(attrs, mapping["created_at"])))
            last_login = to_iso(_first(attrs, mapping["last_login_at"]))
            if last_login is None and is_openldap and "last_login_at" not in opts.attribute_map:
                last_login = to_iso(_first(attrs, "authTimestamp"))
            _put(record, "last_login_at", last_login)
            record.update(self.profile.account_fields(dn, attrs))
            if disabled_attr and is_disabled_value(first_text(attrs, disabled_attr)):
                record["enabled"] = False
            raw = raw_attributes(attrs)
            raw["dn"] = dn
            record["raw"] = raw
            if self._add(record):
                membership.add_account(key, account_id)

    def _add(self, record: dict[str, Any]) -> bool:
        """Write one record; a duplicate id (a mapped id attribute that is not
        unique) is missing data, reported once per record, not a crash."""
        try:
            self.writer.add(record)
        except ValueError as exc:
            self.duplicates += 1
            if self.duplicates <= 10:
                self.writer.fail(f"ldap: {record.get('dn')}: {exc}; the entry was skipped")
            return False
        return True

    # -- groups out --------------------------------------------------------------
    def _write_groups(self) -> None:
        membership, root_keys = self.membership, frozenset(self.roots)
        for key, group in membership.iter_groups():
            reach = (membership.ancestors(key) | {key}) & root_keys
            record: dict[str, Any] = {
                "kind": "group",
                "id": group.id,
                "name": group.name,
                "dn": group.dn,
                "members": membership.account_members(key),
                "nested_groups": sorted(membership.groups[c].id for c in set(group.children)),
                "privileged": bool(reach),
                "privileged_via": sorted(self.roots[k] for k in reach),
            }
            _put(record, "sid", group.sid)
            created = group.raw.get("whenCreated") or group.raw.get("createTimestamp")
            _put(record, "created_at", created if isinstance(created, str) else None)
            record.update(group.extra)
            record["raw"] = group.raw
            self._add(record)


def _first(attrs: Mapping[str, list[bytes]], name: str | None) -> bytes | None:
    if not name:
        return None
    values = attrs.get(name)
    return values[0] if values else None


def _put(record: dict[str, Any], key: str, value: Any) -> None:
    # Absent, not null: a policy then sees "missing" rather than a false value.
    if value is not None:
        record[key] = value
