"""LDAP / Active Directory remediation actions: disable an account, remove it from a
privileged group.

- ``disable_account``: on Active Directory sets ACCOUNTDISABLE (0x2) in
  ``userAccountControl``, keeping every other bit: the value read at apply time
  is deleted and the new one added in one modify, so a concurrent change of the
  attribute makes the modify fail instead of being overwritten. On OpenLDAP it
  is the ppolicy administrative lock, ``pwdAccountLockedTime: 000001010000Z``
  (locked until an administrator removes it), which needs the ppolicy overlay.
- ``remove_group_member``: ``modify delete member: <account DN>`` on each
  privileged group the account is a direct member of (optionally only the
  groups named). Nesting is not undone: the account's own membership is what
  is removed; an AD primary group (``primaryGroupID``) is not a member value
  and is reported, not changed.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from connectors.ldap._decode import first_int, first_text
from connectors.ldap._remediate import (
    ATTRIBUTE_OR_VALUE_EXISTS,
    NO_SUCH_ATTRIBUTE,
    NO_SUCH_OBJECT,
    LdapSession,
)
from policyengine.errors import ConnectorError
from policyengine.remediate.contract import (
    Action,
    ActionSpec,
    Facts,
    Outcome,
    ParamSpec,
    Record,
    ResourceLookup,
    Target,
    facts_match,
)

ACCOUNTDISABLE = 0x2
#: ppolicy: a lock time of 00000101000000Z means "locked until an administrator unlocks"
LOCKED_FOREVER = "000001010000Z"


def _session(session: Any) -> LdapSession:
    if not isinstance(session, LdapSession):
        raise ConnectorError("an LDAP action needs an LDAP session")
    return session


def _accounts_of(resource: Record, lookup: ResourceLookup) -> list[Record]:
    kind = resource.get("kind")
    if kind == "account":
        return [resource]
    if kind == "credential" and isinstance(resource.get("owner"), str):
        owner = lookup.get("account", str(resource["owner"]))
        return [owner] if owner is not None else []
    return []


def _dn(account: Record) -> str:
    dn = account.get("dn") or (account.get("raw") or {}).get("dn")
    if not isinstance(dn, str) or not dn:
        raise ConnectorError(f"account {account.get('id')!r} has no DN in the snapshot")
    return dn


# -- disable_account ----------------------------------------------------------------------
class DisableAccount:
    spec = ActionSpec(
        name="disable_account",
        summary=(
            "disable the account: AD userAccountControl ACCOUNTDISABLE (other bits kept); "
            "OpenLDAP ppolicy lock pwdAccountLockedTime=000001010000Z"
        ),
        kinds=frozenset({"account", "credential"}),
        target_kind="account",
        reversible=True,
        undo=(
            "AD: Enable-ADAccount (clear 0x2 in userAccountControl); OpenLDAP: delete "
            "pwdAccountLockedTime (ldapmodify ... delete: pwdAccountLockedTime)"
        ),
        permissions=(
            "AD: Write userAccountControl on the accounts (delegated 'Read/Write "
            "userAccountControl'; for adminCount=1 accounts the AdminSDHolder ACL, i.e. "
            "Domain Admins, unless AdminSDHolder is delegated); OpenLDAP: write access to "
            "pwdAccountLockedTime (manage on the entries, e.g. access to attrs="
            "pwdAccountLockedTime by dn.exact=<bind DN> manage)"
        ),
    )

    def targets(
        self, resource: Record, lookup: ResourceLookup, params: Mapping[str, Any]
    ) -> Sequence[Target]:
        out = []
        for account in _accounts_of(resource, lookup):
            if account.get("enabled") is False:
                continue
            out.append(
                Target(
                    kind="account",
                    id=str(account["id"]),
                    name=str(account.get("name") or account["id"]),
                    facts={
                        "dn": _dn(account),
                        "enabled": True,
                        "account_type": account.get("type"),
                    },
                    account=str(account["id"]),
                )
            )
        return out

    @staticmethod
    def _state(ldap: LdapSession, dn: str) -> tuple[bool, int | None] | None:
        """(enabled, userAccountControl or None) live; None when the entry is gone."""
        if ldap.active_directory:
            entry = ldap.read(dn, ["userAccountControl"])
            if entry is None:
                return None
            uac = first_int(entry, "userAccountControl")
            if uac is None:
                raise ConnectorError(f"ldap: {dn!r} has no readable userAccountControl")
            return not uac & ACCOUNTDISABLE, uac
        entry = ldap.read(dn, ["pwdAccountLockedTime"])
        if entry is None:
            return None
        return first_text(entry, "pwdAccountLockedTime") != LOCKED_FOREVER, None

    def read_target(self, session: Any, target: Target, params: Mapping[str, Any]) -> Facts | None:
        dn = str(target.facts.get("dn"))
        state = self._state(_session(session), dn)
        return None if state is None else {"dn": dn, "enabled": state[0]}

    def preconditions_hold(self, facts: Facts | None, planned: Target) -> bool:
        # already disabled is no drift: apply says "already disabled"
        return facts is not None and facts.get("dn") == planned.facts.get("dn")

    def apply(self, session: Any, target: Target, params: Mapping[str, Any]) -> Outcome:
        import ldap3

        ldap = _session(session)
        dn = str(target.facts.get("dn"))
        ldap.refuse_self(dn)
        state = self._state(ldap, dn)
        if state is None:
            raise ConnectorError(f"ldap: {dn!r} no longer exists")
        enabled, uac = state
        if not enabled:
            return Outcome(changed=False, after={"enabled": False}, detail="already disabled")
        if ldap.active_directory:
            assert uac is not None
            new = uac | ACCOUNTDISABLE
            # delete-old + add-new in one modify: fails if someone changed it meanwhile
            code = ldap.modify(
                dn,
                {
                    "userAccountControl": [
                        (ldap3.MODIFY_DELETE, [str(uac)]),
                        (ldap3.MODIFY_ADD, [str(new)]),
                    ]
                },
            )
            after: dict[str, Any] = {"enabled": False, "userAccountControl": new}
            before_detail = f"userAccountControl {uac:#x} -> {new:#x}"
        else:
            code = ldap.modify(
                dn, {"pwdAccountLockedTime": [(ldap3.MODIFY_REPLACE, [LOCKED_FOREVER])]}
            )
            after = {"enabled": False, "pwdAccountLockedTime": LOCKED_FOREVER}
            before_detail = f"pwdAccountLockedTime {LOCKED_FOREVER}"
        if code != 0:
            raise ldap.failed("disabling", dn)
        check = self._state(ldap, dn)
        if check is None or check[0]:
            raise ConnectorError(f"ldap: {dn!r} is still enabled after the modify")
        return Outcome(changed=True, after=after, detail=f"disabled ({before_detail})")


# -- remove_group_member --------------------------------------------------------------------
class RemoveGroupMember:
    spec = ActionSpec(
        name="remove_group_member",
        summary="remove the account from the privileged groups it is a direct member of",
        kinds=frozenset({"account"}),
        target_kind="group",
        params=(
            ParamSpec(
                "groups",
                "strings",
                "only these groups (names or DNs; default: every privileged group the "
                "account is a direct member of)",
            ),
        ),
        reversible=True,
        undo=(
            "add it back: AD Add-ADGroupMember -Identity <group> -Members <account>; "
            "OpenLDAP ldapmodify ... add: member"
        ),
        permissions=(
            "write access to the groups' member attribute (AD: 'Write Members' on the "
            "groups; protected groups such as Domain Admins follow AdminSDHolder, i.e. "
            "Domain Admins); OpenLDAP: write on attrs=member of the groups"
        ),
    )

    def targets(
        self, resource: Record, lookup: ResourceLookup, params: Mapping[str, Any]
    ) -> Sequence[Target]:
        if resource.get("kind") != "account":
            return []
        wanted = {str(g).casefold() for g in params.get("groups") or ()}
        account_id = str(resource["id"])
        member_dn = _dn(resource)
        out = []
        for group in lookup.all("group"):
            if not group.get("privileged") or account_id not in (group.get("members") or ()):
                continue
            names = {str(group.get("name") or "").casefold(), str(group.get("dn") or "").casefold()}
            if wanted and not wanted & names:
                continue
            out.append(
                Target(
                    kind="group",
                    id=str(group["id"]),
                    name=f"{group.get('name')}: {resource.get('name')}",
                    facts={
                        "group_dn": str(group.get("dn")),
                        "member_dn": member_dn,
                        "member": True,
                        "account_type": resource.get("type"),
                    },
                    account=account_id,
                )
            )
        return sorted(out, key=lambda t: t.id)

    def read_target(self, session: Any, target: Target, params: Mapping[str, Any]) -> Facts | None:
        group_dn, member_dn = str(target.facts.get("group_dn")), str(target.facts.get("member_dn"))
        present = _session(session).has_value(group_dn, "member", member_dn)
        if present is None:
            return None
        return {"group_dn": group_dn, "member_dn": member_dn, "member": present}

    def preconditions_hold(self, facts: Facts | None, planned: Target) -> bool:
        return facts is not None and facts_match(facts, planned, ("group_dn", "member_dn"))

    def apply(self, session: Any, target: Target, params: Mapping[str, Any]) -> Outcome:
        import ldap3

        ldap = _session(session)
        group_dn, member_dn = str(target.facts.get("group_dn")), str(target.facts.get("member_dn"))
        ldap.refuse_self(member_dn)
        after = {"member": False}
        present = ldap.has_value(group_dn, "member", member_dn)
        if present is None:
            raise ConnectorError(f"ldap: group {group_dn!r} no longer exists")
        if not present:
            return Outcome(changed=False, after=after, detail="not a member (already removed)")
        code = ldap.modify(group_dn, {"member": [(ldap3.MODIFY_DELETE, [member_dn])]})
        if code in (NO_SUCH_ATTRIBUTE, ATTRIBUTE_OR_VALUE_EXISTS):
            return Outcome(changed=False, after=after, detail="not a member (removed meanwhile)")
        if code == NO_SUCH_OBJECT:
            raise ConnectorError(f"ldap: group {group_dn!r} no longer exists")
        if code != 0:
            raise ldap.failed("removing a member from", group_dn)
        if ldap.has_value(group_dn, "member", member_dn):
            raise ConnectorError(f"ldap: {member_dn!r} is still a member of {group_dn!r}")
        return Outcome(changed=True, after=after, detail=f"removed from {group_dn}")


ACTIONS: tuple[Action, ...] = (DisableAccount(), RemoveGroupMember())
