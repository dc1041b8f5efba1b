"""Users, their permissions and MFA methods -> ``account`` resources.

When permission data could not be read completely, ``privileged`` is
reported when already proven true and left missing otherwise: more data
could only make it true.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from typing import Any

from connectors.salesforce._options import SalesforceOptions
from connectors.salesforce._org import Org, bool_field, clean, drop_none, int_field, norm_name
from connectors.salesforce._settings import SESSION_TIMEOUTS, profile_label
from connectors.salesforce._time import sf_time
from connectors.salesforce._user_activity import account_sessions, login_as_events
from policyengine.connector.account_types import AccountFacts

#: TwoFactorMethodsInfo field -> model MFA method.
MFA_FIELDS: dict[str, str] = {
    "HasSecurityKey": "fido2",  # WebAuthn-compatible security key
    "HasU2F": "fido2",  # U2F security key (older registrations)
    "HasBuiltInAuthenticator": "platform",  # Touch ID, Windows Hello
    "HasSalesforceAuthenticator": "push",
    "HasTotp": "totp",
    # A verified mobile number receives identity-verification codes by SMS when
    # the org allows SMS identity confirmation (sessionSettings.enableSMSIdentity);
    # Salesforce never accepts SMS as an MFA factor. A verified email address is
    # not a method at all (every user has one): it stays in raw only.
    "HasUserVerifiedMobileNumber": "sms",
}


#: Methods Salesforce accepts as the second factor of a UI login (sms/email are not).
MFA_FACTORS = frozenset({"fido2", "platform", "push", "totp"})


PHISHING_RESISTANT = frozenset({"fido2", "platform"})


def granted_permissions(permission_set: Mapping[str, Any]) -> set[str]:
    """System permission names (``ModifyAllData``) that this permission set grants."""
    return {
        key.removeprefix("Permissions")
        for key, value in permission_set.items()
        if key.startswith("Permissions") and value is True
    }


@dataclass(frozen=True, slots=True)
class Grant:
    """One source of permissions for a user: the profile or an assigned permission set."""

    kind: str  # "profile" | "permission set"
    name: str
    permissions: frozenset[str]
    expires_at: str | None = None

    def label(self, permission: str) -> str:
        suffix = f" (expires {self.expires_at})" if self.expires_at else ""
        return f"permission:{permission} via {self.kind} {self.name}{suffix}"


def user_grants(org: Org) -> dict[str, list[Grant]]:
    """Each user's effective grants: profile-owned permission set plus active assignments."""
    by_profile: dict[str, dict[str, Any]] = {}
    for owned in org.permission_sets.values():
        if owned.get("IsOwnedByProfile") and owned.get("ProfileId"):
            by_profile[owned["ProfileId"]] = owned
    grants: dict[str, list[Grant]] = defaultdict(list)
    seen: set[tuple[str, str]] = set()
    granted: dict[str, frozenset[str]] = {}  # per permission set, not per user

    def perms_of(ps: Mapping[str, Any]) -> frozenset[str]:
        if ps["Id"] not in granted:
            granted[ps["Id"]] = frozenset(granted_permissions(ps))
        return granted[ps["Id"]]

    for user in org.users:
        profile_ps = by_profile.get(user.get("ProfileId") or "")
        if profile_ps is not None and user.get("Id"):
            profile_name = (
                (user.get("Profile") or {}).get("Name")
                or profile_ps.get("Label")
                or profile_ps["Id"]
            )
            grants[user["Id"]].append(Grant("profile", profile_name, perms_of(profile_ps)))
            seen.add((user["Id"], profile_ps["Id"]))
    for assignment in org.assignments:
        user_id, ps_id = assignment.get("AssigneeId"), assignment.get("PermissionSetId")
        if not user_id or not ps_id or (user_id, ps_id) in seen:
            continue
        if assignment.get("IsActive") is False:  # API >= 52: inactive assignments grant nothing
            continue
        ps = org.permission_sets.get(ps_id)
        if ps is None or ps.get("IsOwnedByProfile"):
            continue
        seen.add((user_id, ps_id))
        # A group assignment points at the permission set holding the group's
        # aggregated permissions; name the group, not that generated set.
        group_id = assignment.get("PermissionSetGroupId")
        group = org.permission_set_groups.get(group_id) if group_id else None
        if group_id:
            kind = "permission set group"
            name = (group or {}).get("DeveloperName") or ps.get("Label") or group_id
        else:
            kind, name = "permission set", ps.get("Name") or ps_id
        grants[user_id].append(
            Grant(kind, name, perms_of(ps), sf_time(assignment.get("ExpirationDate")))
        )
    return grants


def map_mfa(
    record: Mapping[str, Any] | None, *, known: bool, sms_identity: bool | None = True
) -> dict[str, Any] | None:
    """``mfa`` from a TwoFactorMethodsInfo row; None when the object could not be read.

    A user with no row has registered nothing. A row that lacks a ``Has*``
    field leaves ``enrolled``/``phishing_resistant`` missing unless a known
    field already proves them true. ``sms`` is listed only while the org
    allows SMS identity confirmation (``sms_identity`` not False).
    """
    if not known and record is None:
        return None
    record = record or {}
    has_row = bool(record)
    methods: list[str] = []
    unknown: set[str] = set()
    for key, method in MFA_FIELDS.items():
        if method == "sms" and sms_identity is False:
            continue
        value = record.get(key) if has_row else False
        if value is True and method not in methods:
            methods.append(method)
        elif not isinstance(value, bool):
            unknown.add(method)
    enrolled = any(m in MFA_FACTORS for m in methods) or (None if unknown & MFA_FACTORS else False)
    resistant = any(m in PHISHING_RESISTANT for m in methods) or (
        None if unknown & PHISHING_RESISTANT else False
    )
    return drop_none(
        {"enrolled": enrolled, "methods": sorted(methods), "phishing_resistant": resistant}
    )


def account_type(user: Mapping[str, Any], permissions: set[str], options: SalesforceOptions) -> str:
    """Configured type rules, then integration users (profile, license, API-only) are
    ``service``, then the default rules; else human."""
    facts = AccountFacts(
        str(user.get("Username") or ""),
        attrs={k: [str(v)] for k, v in user.items() if isinstance(v, str | int | bool)},
    )
    configured = options.type_rules.configured_type(facts)
    if configured:
        return configured
    profile = user.get("Profile") or {}
    license_name = (profile.get("UserLicense") or {}).get("Name")
    if profile.get("Name") in options.integration_profiles:
        return "service"
    if license_name == "Salesforce Integration" or "ApiUserOnly" in permissions:
        return "service"
    if user.get("UserType") == "AutomatedProcess":
        return "service"
    return options.type_rules.default_type(facts) or "human"


def org_idle_minutes(org: Org) -> int | None:
    settings = (org.security_settings or {}).get("sessionSettings") or {}
    return SESSION_TIMEOUTS.get(str(settings.get("sessionTimeout")))


def profile_idle_minutes(org: Org) -> dict[str, int]:
    """ProfileSessionSetting.sessionTimeout (minutes) by profile name, casefolded.

    The override replaces the org-wide value for that profile's users.
    """
    out: dict[str, int] = {}
    for setting in org.profile_sessions:
        minutes = int_field(setting.get("sessionTimeout"))
        if minutes is None:
            continue
        for name in (setting.get("profile"), setting.get("fullName")):
            if isinstance(name, str) and name:
                out.setdefault(norm_name(profile_label(name)), minutes)
    return out


def map_accounts(org: Org, options: SalesforceOptions) -> Iterator[dict[str, Any]]:
    grants = user_grants(org)
    perms_complete = {"PermissionSet", "PermissionSetAssignment"} <= org.complete
    mfa_known = "TwoFactorMethodsInfo" in org.complete
    logins_known = "UserLogin" in org.complete
    idle = org_idle_minutes(org)
    profile_idle = profile_idle_minutes(org)
    sms_identity = bool_field(
        (org.security_settings or {}).get("sessionSettings") or {}, "enableSMSIdentity"
    )
    privileged_set = set(options.privileged_permissions)
    sessions, logged_in_as = account_sessions(org), login_as_events(org)
    for user in org.users:
        user_id = user.get("Id")
        if not isinstance(user_id, str) or not user_id:
            continue
        user_grants_ = grants.get(user_id, [])
        permissions: set[str] = set().union(*(g.permissions for g in user_grants_))
        via = [g.label(p) for g in user_grants_ for p in sorted(g.permissions & privileged_set)]
        privileged: bool | None = bool(via) if perms_complete else (True if via else None)
        if "BypassMFAForUiLogins" in org.unavailable_permissions:
            waived: bool | None = None
        else:
            waived = "BypassMFAForUiLogins" in permissions or (False if perms_complete else None)
        profile = user.get("Profile") or {}
        user_idle = profile_idle.get(norm_name(str(profile.get("Name") or "")), idle)
        roles = [g.name for g in user_grants_] or ([profile["Name"]] if profile.get("Name") else [])
        login = org.logins.get(user_id)
        flags = ["frozen"] if login and login.get("IsFrozen") is True else []
        user_type = user.get("UserType")
        if user_type == "Guest":
            flags.append("guest")
        elif isinstance(user_type, str) and user_type not in ("Standard", "AutomatedProcess"):
            flags.append("external")  # partner / customer portal and community users
        kind_of_user = account_type(user, permissions, options)
        yield drop_none(
            {
                "kind": "account",
                "id": user_id,
                "name": user.get("Username"),
                "type": kind_of_user,
                # a non-human account's owner is its manager (a person accountable for it)
                "owner": user.get("ManagerId") if kind_of_user != "human" else None,
                "enabled": bool_field(user, "IsActive"),
                "email": user.get("Email"),
                "employee_id": user.get("EmployeeNumber") or None,
                "created_at": sf_time(user.get("CreatedDate")),
                "last_login_at": sf_time(user.get("LastLoginDate")),
                "password_last_set_at": sf_time(user.get("LastPasswordChangeDate")),
                "roles": roles,
                "privileged": privileged,
                "privileged_via": via if via or perms_complete else None,
                "permissions": sorted(permissions) if perms_complete else None,
                "mfa": map_mfa(org.mfa.get(user_id), known=mfa_known, sms_identity=sms_identity),
                "mfa_waived": waived,
                "session": {"idle_timeout_minutes": user_idle} if user_idle is not None else None,
                "locked": (
                    bool_field(login, "IsPasswordLocked")
                    if login
                    else (False if logins_known else None)
                ),
                # Only when there is one: AD-specific policies key on `flags` existing.
                "flags": flags or None,
                # None when not read (missing); a user with no open session has count 0
                "live_sessions": (
                    sessions.get(user_id[:15]) or _no_sessions() if sessions is not None else None
                ),
                "activity": (
                    logged_in_as.get(user_id[:15], _no_login_as(org.activity_days))
                    if logged_in_as is not None
                    else None
                ),
                "raw": _account_raw(user, org.mfa.get(user_id)),
            }
        )


def _no_sessions() -> dict[str, Any]:
    return {"count": 0, "oauth": 0, "source_ips": [], "sessions": []}


def _no_login_as(days: int) -> dict[str, Any]:
    return {"window_days": days, "login_as_events": 0, "login_as_by": []}


def _account_raw(user: Mapping[str, Any], methods: Mapping[str, Any] | None) -> dict[str, Any]:
    raw: dict[str, Any] = clean(user)
    if methods is not None:
        raw["TwoFactorMethodsInfo"] = clean(methods)
    return raw
