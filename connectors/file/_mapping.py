"""Turn validated access-as-code files into normalised resources.

What the files say directly (ids, MFA methods, scopes, owners) is copied;
what a policy needs but people should not have to maintain by hand is
derived here, once, for the whole repository:

- ``account.groups``: effective membership, with ``nested_groups`` resolved
  (a group listed in another group's ``nested_groups`` passes its members up);
  membership can be declared on either side (``account.groups`` or
  ``group.members``).
- ``account.roles``: the account's own roles, ``role_grants`` to it, and the
  roles of every group it is effectively in.
- ``privileged`` / ``privileged_via``: a role in ``privileged_roles``, or
  membership of a group that is privileged (declared ``privileged: true``,
  holding a privileged role, or nested inside a privileged group).
- ``mfa.phishing_resistant``: at least one method is phishing-resistant
  (webauthn, fido2, smartcard, certificate, platform); ``mfa.enrolled``: at
  least one method, unless stated.
- ``account.session``: the account's own ``session:``, else the first
  enabled session policy that applies to it (lowest ``priority``, then file
  order), like an IdP's ordered sign-on rules.

Every resource keeps ``location: {file, line}`` (the line of the list item
that declares it), so a finding points at the line a pull request added.
"""

from __future__ import annotations

import math
from collections.abc import Hashable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from connectors.file._load import AccessFile, AccessFileError, AccessValidationError, dotted
from connectors.file._values import raw_copy, to_minutes, to_timestamp
from policyengine.errors import Location, PolicyEngineError
from policyengine.model.kinds import PHISHING_RESISTANT_METHODS, TIMESTAMP_FIELDS_BY_KIND

#: Used when no file declares ``privileged_roles``.
DEFAULT_PRIVILEGED_ROLES: tuple[str, ...] = (
    "admin",
    "super_admin",
    "org_admin",
    "global_admin",
    "security_admin",
)
EVERYONE = "everyone"

_COPY_ACCOUNT = ("email", "employee_id", "owner", "password_never_expires")
_COPY_INTEGRATION = (
    "type",
    "publisher",
    "scopes",
    "owner",
    "admin_approved",
    "ip_restricted",
    "authorized_users",
    "refresh_token_policy",
    "high_assurance_required",
    "installed",
)
_COPY_CREDENTIAL = ("type", "owner", "integration", "scopes", "strength")
_COPY_SESSION = ("mfa_required", "ip_locked", "persistent_cookie", "http_only", "priority")


@dataclass(frozen=True, slots=True)
class _Item:
    """One list entry of one file, with where it is."""

    file: AccessFile
    section: str
    index: int
    data: Mapping[str, Any]

    @property
    def path(self) -> tuple[Hashable, ...]:
        return (self.section, self.index)

    def line(self, *sub: Hashable) -> int:
        return self.file.line_of((*self.path, *sub))

    def location(self) -> dict[str, Any]:
        return {"file": self.file.name, "line": self.line()}

    def where(self) -> str:
        return f"{self.file.name}:{self.line()}"

    def error(self, message: str, *sub: Hashable, code: str = "AC201") -> AccessFileError:
        line, col = _position(self.file, (*self.path, *sub))
        return AccessFileError(
            message, Location(self.file.name, line, col, field=dotted((*self.path, *sub))), code
        )


def _position(file: AccessFile, path: tuple[Hashable, ...]) -> tuple[int | None, int | None]:
    from policyengine.policy.yamlload import position_of

    return position_of(file.positions, path)


def build(
    files: Sequence[AccessFile], *, privileged_roles: Sequence[str] | None = None
) -> list[dict[str, Any]]:
    """All resources declared by ``files``; AccessValidationError lists every bad reference.

    ``privileged_roles`` (from the command line) replaces what the files declare;
    files that declare ``privileged_roles`` replace the defaults (the union of
    all declarations counts).
    """
    return _Model(files, privileged_roles).resources()


class _Model:
    def __init__(self, files: Sequence[AccessFile], privileged_roles: Sequence[str] | None):
        self.errors: list[PolicyEngineError] = []
        sections: dict[str, list[_Item]] = {}
        declared_roles: list[str] = []
        for f in files:
            declared_roles.extend(f.data.get("privileged_roles") or ())
            for section in (
                "accounts",
                "break_glass",
                "groups",
                "role_grants",
                "session_policies",
                "integrations",
                "credentials",
            ):
                for i, data in enumerate(f.data.get(section) or ()):
                    sections.setdefault(section, []).append(_Item(f, section, i, data))
        if privileged_roles:
            roles: Sequence[str] = privileged_roles
        else:
            roles = declared_roles or DEFAULT_PRIVILEGED_ROLES
        self.privileged_roles = frozenset(roles)
        self.accounts = self._unique(
            "account", [*sections.get("accounts", ()), *sections.get("break_glass", ())]
        )
        self.groups = self._unique("group", sections.get("groups", []))
        self.session_policies = self._unique("session policy", sections.get("session_policies", []))
        self.integrations = self._unique("integration", sections.get("integrations", []))
        self.credentials = self._unique("credential", sections.get("credentials", []))
        self.grants = sections.get("role_grants", [])
        self._grant_index: dict[tuple[str, str], list[str]] | None = None
        self._check_references()
        if self.errors:
            raise AccessValidationError(self.errors)

    # -- checks -------------------------------------------------------------
    def _unique(self, what: str, items: list[_Item]) -> dict[str, _Item]:
        out: dict[str, _Item] = {}
        for item in items:
            rid = item.data["id"]
            if rid in out:
                self.errors.append(
                    item.error(
                        f"duplicate {what} id {rid!r} (first declared at {out[rid].where()})",
                        "id",
                        code="AC200",
                    )
                )
                continue
            out[rid] = item
        return out

    def _refs(self, item: _Item, key: str, target: Mapping[str, _Item], what: str) -> None:
        value = item.data.get(key) or []
        where = "accounts: or break_glass:" if what == "account" else "groups:"
        for j, ref in enumerate(_as_list(value)):
            if ref == EVERYONE and key == "applies_to":
                continue
            if ref not in target:
                sub: tuple[Hashable, ...] = (key,) if isinstance(value, str) else (key, j)
                self.errors.append(
                    item.error(f"unknown {what} {ref!r}; declare it under {where}", *sub)
                )

    def _check_references(self) -> None:
        for item in self.accounts.values():
            self._refs(item, "groups", self.groups, "group")
        for item in self.groups.values():
            self._refs(item, "members", self.accounts, "account")
            self._refs(item, "nested_groups", self.groups, "group")
        for item in self.grants:
            if not item.data.get("accounts") and not item.data.get("groups"):
                self.errors.append(
                    item.error("a role grant needs accounts: or groups:", "role", code="AC100")
                )
            self._refs(item, "accounts", self.accounts, "account")
            self._refs(item, "groups", self.groups, "group")
        for item in self.session_policies.values():
            self._refs(item, "applies_to", self.groups, "group")

    # -- derivation -----------------------------------------------------------
    def resources(self) -> list[dict[str, Any]]:
        direct = self._direct_members()
        children = {
            gid: list(_unique(g.data.get("nested_groups") or ())) for gid, g in self.groups.items()
        }
        # ancestors[g]: groups whose members include g's members (g itself first)
        parents = _invert(children)
        ancestors = {gid: _closure(gid, parents) for gid in self.groups}
        own_roles = self._own_group_roles()
        group_roles = {
            gid: _unique(r for a in ancestors[gid] for r in own_roles[a]) for gid in self.groups
        }
        group_via = {
            gid: self._group_privileged_via(gid, ancestors[gid], own_roles) for gid in self.groups
        }
        account_groups: dict[str, list[str]] = {aid: [] for aid in self.accounts}
        for gid in self.groups:
            for aid in direct[gid]:
                for ancestor in ancestors[gid]:
                    account_groups[aid].append(ancestor)
        account_groups = {aid: _unique(gs) for aid, gs in account_groups.items()}
        account_roles = {
            aid: _unique(
                [
                    *(item.data.get("roles") or ()),
                    *self._grants_to("accounts", aid),
                    *(r for g in account_groups[aid] for r in group_roles[g]),
                ]
            )
            for aid, item in self.accounts.items()
        }
        out: list[dict[str, Any]] = []
        for aid, item in self.accounts.items():
            out.append(self._account(item, account_groups[aid], account_roles[aid], group_via))
        for gid, item in self.groups.items():
            out.append(
                self._group(item, direct[gid], children[gid], group_roles[gid], group_via[gid])
            )
        out.extend(self._roles(account_roles))
        for item in self.session_policies.values():
            out.append(self._session_policy(item))
        for item in self.integrations.values():
            out.append(self._integration(item))
        for item in self.credentials.values():
            out.append(self._credential(item))
        return out

    def _direct_members(self) -> dict[str, list[str]]:
        direct: dict[str, list[str]] = {
            gid: list(g.data.get("members") or ()) for gid, g in self.groups.items()
        }
        for aid, item in self.accounts.items():
            for gid in item.data.get("groups") or ():
                direct[gid].append(aid)
        return {gid: _unique(members) for gid, members in direct.items()}

    def _grants_to(self, key: str, target: str) -> list[str]:
        """Roles granted to ``target`` (an account or group id) by ``role_grants``."""
        if self._grant_index is None:
            index: dict[tuple[str, str], list[str]] = {}
            for grant in self.grants:
                for k in ("accounts", "groups"):
                    for t in grant.data.get(k) or ():
                        index.setdefault((k, t), []).append(grant.data["role"])
            self._grant_index = index
        return self._grant_index.get((key, target), [])

    def _own_group_roles(self) -> dict[str, list[str]]:
        return {
            gid: _unique([*(g.data.get("roles") or ()), *self._grants_to("groups", gid)])
            for gid, g in self.groups.items()
        }

    def _group_privileged_via(
        self, gid: str, ancestors: Sequence[str], own_roles: Mapping[str, Sequence[str]]
    ) -> list[str]:
        via: list[str] = []
        for ancestor in ancestors:
            if self.groups[ancestor].data.get("privileged"):
                via.append("declared" if ancestor == gid else f"group:{ancestor}")
            for role in own_roles[ancestor]:
                if role in self.privileged_roles:
                    via.append(f"role:{role}" if ancestor == gid else f"group:{ancestor}")
        return _unique(via)

    # -- resources --------------------------------------------------------------
    def _base(self, kind: str, item: _Item) -> dict[str, Any]:
        data = item.data
        return {
            "kind": kind,
            "id": data["id"],
            "name": data.get("name") or data["id"],
            "location": item.location(),
        }

    def _account(
        self,
        item: _Item,
        groups: list[str],
        roles: list[str],
        group_via: Mapping[str, list[str]],
    ) -> dict[str, Any]:
        data = item.data
        res = self._base("account", item)
        res["type"] = "break_glass" if item.section == "break_glass" else data.get("type", "human")
        res["enabled"] = data.get("enabled", True)
        _copy(res, data, _COPY_ACCOUNT)
        res["roles"] = roles
        res["groups"] = groups
        own = [*(data.get("roles") or ()), *self._grants_to("accounts", data["id"])]
        via = [f"role:{r}" for r in _unique(own) if r in self.privileged_roles]
        via += [f"group:{g}" for g in groups if group_via[g]]
        res["privileged"] = bool(via)
        res["privileged_via"] = _unique(via)
        mfa = data.get("mfa") or {}
        methods = _unique(mfa.get("methods") or ())
        res["mfa"] = {
            "enrolled": mfa.get("enrolled", bool(methods)),
            "methods": methods,
            "phishing_resistant": any(m in PHISHING_RESISTANT_METHODS for m in methods),
        }
        session = self._session_for(data, groups)
        if session:
            res["session"] = session
        _timestamps(res, data)
        res["raw"] = raw_copy(dict(data))
        return res

    def _session_for(self, data: Mapping[str, Any], groups: Sequence[str]) -> dict[str, Any]:
        own = data.get("session")
        if own:
            return _limits(own)
        member_of = set(groups)
        ordered = sorted(
            enumerate(self.session_policies.values()),
            key=lambda p: (_priority(p[1].data), p[0]),
        )
        for _, policy in ordered:
            if policy.data.get("enabled", True) is False:
                continue
            applies = _as_list(policy.data["applies_to"])
            if EVERYONE in applies or member_of.intersection(applies):
                return _limits(policy.data)
        return {}

    def _group(
        self,
        item: _Item,
        members: list[str],
        nested: list[str],
        roles: list[str],
        via: list[str],
    ) -> dict[str, Any]:
        res = self._base("group", item)
        res["members"] = members
        res["nested_groups"] = nested
        res["roles"] = roles
        res["privileged"] = bool(via)
        res["privileged_via"] = via
        res["raw"] = raw_copy(dict(item.data))
        return res

    def _roles(self, account_roles: Mapping[str, list[str]]) -> Iterator[dict[str, Any]]:
        # A role resource for every role mentioned; located at its first grant,
        # else at its first mention.
        first: dict[str, dict[str, Any]] = {}
        for grant in self.grants:
            first.setdefault(grant.data["role"], grant.location())
        for section in (self.accounts, self.groups):
            for item in section.values():
                for j, role in enumerate(item.data.get("roles") or ()):
                    first.setdefault(role, {"file": item.file.name, "line": item.line("roles", j)})
        holders: dict[str, list[str]] = {}
        for aid, roles in account_roles.items():
            for role in roles:
                holders.setdefault(role, []).append(aid)
        for role, location in first.items():
            yield {
                "kind": "role",
                "id": role,
                "name": role,
                "location": location,
                "members": holders.get(role, []),
                "privileged": role in self.privileged_roles,
            }

    def _session_policy(self, item: _Item) -> dict[str, Any]:
        data = item.data
        res = self._base("session_policy", item)
        res["applies_to"] = _as_list(data["applies_to"])
        res.update(_limits(data))
        _copy(res, data, _COPY_SESSION)
        res["enabled"] = data.get("enabled", True)
        res["raw"] = raw_copy(dict(data))
        return res

    def _integration(self, item: _Item) -> dict[str, Any]:
        return self._expiring("integration", item, _COPY_INTEGRATION)

    def _credential(self, item: _Item) -> dict[str, Any]:
        return self._expiring("credential", item, _COPY_CREDENTIAL)

    def _expiring(self, kind: str, item: _Item, fields: Any) -> dict[str, Any]:
        """Integrations and credentials: copied fields, timestamps and an optional expiry."""
        data = item.data
        res = self._base(kind, item)
        _copy(res, data, fields)
        res["enabled"] = data.get("enabled", True)
        _timestamps(res, data)
        if "expires" in data:
            res["expires_at"] = to_timestamp(data["expires"])
        res["raw"] = raw_copy(dict(data))
        return res


# -- helpers --------------------------------------------------------------------
def _unique(values: Any) -> list[Any]:
    """Values in first-seen order without repeats."""
    return list(dict.fromkeys(values))


def _as_list(value: str | Sequence[str]) -> list[str]:
    return [value] if isinstance(value, str) else list(value)


def _invert(children: Mapping[str, Sequence[str]]) -> dict[str, list[str]]:
    parents: dict[str, list[str]] = {gid: [] for gid in children}
    for parent, kids in children.items():
        for kid in kids:
            parents[kid].append(parent)
    return parents


def _closure(start: str, edges: Mapping[str, Sequence[str]]) -> list[str]:
    """``start`` and everything reachable from it (cycles are harmless)."""
    seen = [start]
    stack = [start]
    while stack:
        for nxt in edges.get(stack.pop(), ()):
            if nxt not in seen:
                seen.append(nxt)
                stack.append(nxt)
    return seen


def _priority(data: Mapping[str, Any]) -> float:
    value = data.get("priority")
    return math.inf if value is None else float(value)


def _limits(data: Mapping[str, Any]) -> dict[str, Any]:
    out: dict[str, Any] = {}
    if data.get("max_lifetime") is not None:
        out["max_lifetime_minutes"] = to_minutes(data["max_lifetime"])
    if data.get("idle_timeout") is not None:
        out["idle_timeout_minutes"] = to_minutes(data["idle_timeout"])
    return out


def _copy(res: dict[str, Any], data: Mapping[str, Any], keys: Sequence[str]) -> None:
    for key in keys:
        if key in data and data[key] is not None:
            value = data[key]
            res[key] = list(value) if isinstance(value, list) else value


def _timestamps(res: dict[str, Any], data: Mapping[str, Any]) -> None:
    """The item's timestamp fields (the model's, for its kind) in the model's form."""
    for key in TIMESTAMP_FIELDS_BY_KIND[res["kind"]]:
        if data.get(key) is not None:
            res[key] = to_timestamp(data[key])
