"""Graph objects -> model records (account, group, role, integration, credential,
session_policy, setting). Pure functions: no I/O."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any

from policyengine.connector.account_types import AccountFacts, TypeRules
from policyengine.model.kinds import PHISHING_RESISTANT_METHODS

#: userRegistrationDetails.methodsRegistered -> the model's method names. Not MFA: password,
#: securityQuestion, temporaryAccessPass, appPassword (left out). A mobile phone may be SMS
#: or voice; it is counted as the weaker-looking "sms".
METHODS: dict[str, str] = {
    "fido2": "fido2",
    "fido2SecurityKey": "fido2",
    "passKeyDeviceBound": "fido2",
    "passKeySynced": "webauthn",  # a synced passkey: origin-bound, not device-bound
    "passKeyDeviceBoundAuthenticator": "fido2",
    "passKeyDeviceBoundWindowsHello": "platform",
    "windowsHelloForBusiness": "platform",
    "macOsSecureEnclaveKey": "platform",
    "x509Certificate": "certificate",
    "microsoftAuthenticatorPush": "push",
    "microsoftAuthenticatorPasswordless": "push",
    "softwareOneTimePasscode": "totp",
    "hardwareOneTimePasscode": "totp",
    "mobilePhone": "sms",
    "sms": "sms",
    "alternateMobilePhone": "sms",
    "officePhone": "voice",
    "email": "email",
}

#: Built-in roles Microsoft labels PRIVILEGED (permissions-reference), by template id.
PRIVILEGED_ROLES: dict[str, str] = {
    "62e90394-69f5-4237-9190-012177145e10": "Global Administrator",
    "e8611ab8-c189-46e8-94e1-60213ab1f814": "Privileged Role Administrator",
    "7be44c8a-adaf-4e2a-84d6-ab2649e08a13": "Privileged Authentication Administrator",
    "194ae4cb-b126-40b2-bd5b-6091b380977d": "Security Administrator",
    "9b895d92-2cd3-44c7-9d02-a6ac2d5ea5c3": "Application Administrator",
    "158c047a-c907-4556-b7ef-446551a6b5f7": "Cloud Application Administrator",
    "fe930be7-5e62-47db-91af-98c3a49a38b1": "User Administrator",
    "29232cdf-9323-42fd-ade2-1d097af3e4de": "Exchange Administrator",
    "f28a1f50-f6e7-4571-818b-6a12f2af6b6c": "SharePoint Administrator",
    "729827e3-9c14-49f7-bb1b-9608f156bbb8": "Helpdesk Administrator",
    "8ac3fc64-6eca-42ea-9e69-59f4c7b60eb2": "Hybrid Identity Administrator",
    "c4e39bd9-1100-46d3-8c65-fb160da0071f": "Authentication Administrator",
    "b1be1c3e-b65d-4f19-8427-f6fa0d97feb9": "Conditional Access Administrator",
    "9360feb5-f418-4baa-8175-e2a00bac4301": "Directory Writers",
    "be2f45a1-457d-42af-a067-6ec1fa63bc45": "External Identity Provider Administrator",
    "e00e864a-17c5-4a4b-9c06-f5b95a8d5bd8": "Partner Tier2 Support",
    "3a2c62db-5318-420d-8d74-23affee5d9d5": "Intune Administrator",
}
GLOBAL_ADMIN = "62e90394-69f5-4237-9190-012177145e10"

#: Graph application permissions that let an app take over the tenant or read everyone's data.
HIGH_PRIVILEGE_APP_PERMISSIONS = frozenset(
    {
        "Directory.ReadWrite.All",
        "RoleManagement.ReadWrite.Directory",
        "AppRoleAssignment.ReadWrite.All",
        "Application.ReadWrite.All",
        "Mail.ReadWrite",
        "Mail.Send",
        "Files.ReadWrite.All",
        "Sites.ReadWrite.All",
        "User.ReadWrite.All",
        "Group.ReadWrite.All",
        "full_access_as_app",
    }
)
#: a credential ending after this year is "never expires" (the portal's "Never" is 2299)
NEVER_EXPIRES_YEAR = 2200


def ts(value: object) -> str | None:
    """Graph's ``2026-01-01T00:00:00Z`` (or with fractions / an offset) -> model timestamp."""
    if not isinstance(value, str) or not value:
        return None
    try:
        parsed = dt.datetime.fromisoformat(value.replace("Z", "+00:00"))
    except ValueError:
        return None
    if parsed.tzinfo is None:
        parsed = parsed.replace(tzinfo=dt.UTC)
    return parsed.astimezone(dt.UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


@dataclass(frozen=True, slots=True)
class Assignment:
    """One directory role held by a principal: active or eligible, permanent or until ``end``."""

    role_id: str
    role: str
    state: str  # active | eligible
    end: str | None
    via_group: str | None = None

    def as_raw(self) -> dict[str, object]:
        return {
            "role": self.role,
            "role_template_id": self.role_id,
            "state": self.state,
            "permanent": self.end is None,
            "end": self.end,
            "via_group": self.via_group,
        }


@dataclass(slots=True)
class Directory:
    """What users and apps are mapped against: roles held and group memberships."""

    #: principal id (user or group) -> assignments
    assignments: dict[str, list[Assignment]] = field(default_factory=dict)
    #: user id -> (group id, group name) of role-assignable groups it is in
    groups_of: dict[str, list[tuple[str, str]]] = field(default_factory=dict)
    #: user id -> registration details
    registration: dict[str, dict[str, Any]] = field(default_factory=dict)
    registration_known: bool = True


def mfa(registration: Mapping[str, Any] | None) -> dict[str, object] | None:
    if registration is None:
        return None
    methods = sorted(
        {METHODS[m] for m in registration.get("methodsRegistered") or () if m in METHODS}
    )
    return {
        "enrolled": bool(registration.get("isMfaRegistered")),
        "methods": methods,
        "phishing_resistant": any(m in PHISHING_RESISTANT_METHODS for m in methods),
    }


def user_assignments(user_id: str, directory: Directory) -> list[Assignment]:
    held = list(directory.assignments.get(user_id, ()))
    for group_id, group_name in directory.groups_of.get(user_id, ()):
        for a in directory.assignments.get(group_id, ()):
            held.append(Assignment(a.role_id, a.role, a.state, a.end, via_group=group_name))
    return held


def account(
    user: Mapping[str, Any], directory: Directory, types: TypeRules, *, sign_in_known: bool
) -> dict[str, object]:
    upn = str(user.get("userPrincipalName") or user["id"])
    held = user_assignments(str(user["id"]), directory)
    active_privileged = [a for a in held if a.role_id in PRIVILEGED_ROLES]
    guest = user.get("userType") == "Guest"
    flags = ["guest"] if guest else []
    if user.get("onPremisesSyncEnabled"):
        flags.append("on_premises_synced")
    attrs = {
        k: [str(user[k])]
        for k in ("userType", "employeeType", "department", "jobTitle")
        if user.get(k) is not None
    }
    record: dict[str, object] = {
        "kind": "account",
        "id": str(user["id"]),
        "name": upn,
        "type": types.infer(AccountFacts(upn, attrs=attrs)),
        "enabled": bool(user.get("accountEnabled")),
        "email": user.get("mail") or None,
        "upn": upn,
        "employee_id": user.get("employeeId") or None,
        "display_name": user.get("displayName") or None,
        "created_at": ts(user.get("createdDateTime")),
        "password_never_expires": "DisablePasswordExpiration"
        in str(user.get("passwordPolicies") or ""),
        "privileged": bool(active_privileged),
        "privileged_via": sorted({_via(a) for a in active_privileged}),
        "roles": sorted({a.role for a in held}),
        "groups": sorted({g for g, _ in directory.groups_of.get(str(user["id"]), ())}),
        "flags": flags,
        "status": "guest" if guest else "member",
        "raw": {
            "userType": user.get("userType"),
            "onPremisesSyncEnabled": user.get("onPremisesSyncEnabled"),
            # reset by revokeSignInSessions: tokens issued before it are invalid
            "signInSessionsValidFromDateTime": user.get("signInSessionsValidFromDateTime"),
            "role_assignments": [a.as_raw() for a in held],
        },
    }
    if directory.registration_known:
        record["mfa"] = mfa(directory.registration.get(str(user["id"]))) or {
            "enrolled": False,
            "methods": [],
            "phishing_resistant": False,
        }
    if sign_in_known:
        activity = user.get("signInActivity") or {}
        interactive = ts(activity.get("lastSignInDateTime"))
        non_interactive = ts(activity.get("lastNonInteractiveSignInDateTime"))
        successful = ts(activity.get("lastSuccessfulSignInDateTime"))
        latest = max((t for t in (interactive, non_interactive) if t), default=None)
        record["last_login_at"] = latest
        raw = record["raw"]
        assert isinstance(raw, dict)
        raw["sign_in"] = {
            "last_interactive": interactive,
            "last_non_interactive": non_interactive,
            "last_successful": successful,
        }
    return {k: v for k, v in record.items() if v is not None}


def _via(a: Assignment) -> str:
    how = "permanent" if a.end is None else f"until {a.end}"
    group = f" via group {a.via_group}" if a.via_group else ""
    return f"{a.role} ({a.state}, {how}){group}"


def roles(
    definitions: Iterable[Mapping[str, Any]], directory: Directory, user_ids: set[str]
) -> list[dict[str, object]]:
    """One record per role held; ``members`` are the accounts holding it, directly or through a
    role-assignable group. Other principals (service principals) are in ``raw.other_principals``."""
    members: dict[str, set[str]] = {}
    others: dict[str, set[str]] = {}
    group_members: dict[str, set[str]] = {}
    for user_id, groups in directory.groups_of.items():
        for group_id, _ in groups:
            group_members.setdefault(group_id, set()).add(user_id)
    for principal, held in directory.assignments.items():
        for a in held:
            if principal in user_ids:
                members.setdefault(a.role_id, set()).add(principal)
            elif principal in group_members:
                members.setdefault(a.role_id, set()).update(group_members[principal])
            else:
                others.setdefault(a.role_id, set()).add(principal)
    out = []
    for d in definitions:
        template = str(d.get("templateId") or d["id"])
        if template not in members and template not in others:
            continue
        out.append(
            {
                "kind": "role",
                "id": template,
                "name": str(d.get("displayName") or template),
                "members": sorted(members.get(template, ())),
                "privileged": template in PRIVILEGED_ROLES,
                "raw": {
                    "isBuiltIn": d.get("isBuiltIn"),
                    "other_principals": sorted(others.get(template, ())),
                },
            }
        )
    return out


def group(g: Mapping[str, Any], member_ids: list[str], directory: Directory) -> dict[str, object]:
    held = directory.assignments.get(str(g["id"]), [])
    return {
        "kind": "group",
        "id": str(g["id"]),
        "name": str(g.get("displayName") or g["id"]),
        "members": sorted(member_ids),
        "privileged": any(a.role_id in PRIVILEGED_ROLES for a in held),
        "privileged_via": sorted({_via(a) for a in held if a.role_id in PRIVILEGED_ROLES}),
        "roles": sorted({a.role for a in held}),
        "security": bool(g.get("securityEnabled", True)),
        "raw": {"isAssignableToRole": True},
    }


def credentials(
    owner: Mapping[str, Any], integration_id: str, holder: str
) -> list[dict[str, object]]:
    """Password and key credentials: metadata only (Graph never returns the secret)."""
    out: list[dict[str, object]] = []
    for kind, key in (("client_secret", "passwordCredentials"), ("certificate", "keyCredentials")):
        for c in owner.get(key) or ():
            start, end = ts(c.get("startDateTime")), ts(c.get("endDateTime"))
            never = end is None or int(end[:4]) >= NEVER_EXPIRES_YEAR
            lifetime = _days(start, end) if start and end else None
            record: dict[str, object] = {
                "kind": "credential",
                "id": f"{holder}:{c.get('keyId')}",
                "name": str(c.get("displayName") or c.get("keyId")),
                "type": kind,
                "integration": integration_id,
                "created_at": start,
                "last_rotated_at": start,
                "expires_at": None if never else end,
                "raw": {
                    "keyId": c.get("keyId"),
                    "held_by": holder,
                    "never_expires": never,
                    "lifetime_days": lifetime,
                    "endDateTime": end,
                    "expired_but_present": bool(end and not never and end < _now()),
                },
            }
            out.append({k: v for k, v in record.items() if v is not None})
    return out


def _days(start: str, end: str) -> int:
    parse = dt.datetime.fromisoformat
    return (parse(end.replace("Z", "+00:00")) - parse(start.replace("Z", "+00:00"))).days


def _now() -> str:
    return dt.datetime.now(dt.UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def setting(name: str, value: object, category: str, raw: Mapping[str, Any]) -> dict[str, object]:
    return {
        "kind": "setting",
        "id": name,
        "name": name,
        "value": value,
        "category": category,
        "raw": {k: v for k, v in raw.items() if not k.startswith("@odata.")},
    }


def user_consent(policy: Mapping[str, Any]) -> str:
    """``none`` | ``low_risk`` (verified publishers, low-impact scopes) | ``all``."""
    assigned = (policy.get("defaultUserRolePermissions") or {}).get(
        "permissionGrantPoliciesAssigned"
    ) or []
    names = [str(p).split(".", 1)[-1] for p in assigned if str(p).startswith("ManagePermission")]
    if any(n.startswith("microsoft-user-default-legacy") for n in names):
        return "all"
    if names:
        return "low_risk"
    return "none"


_FREQUENCY_MINUTES = {"hours": 60, "days": 1440}


def session_policy(policy: Mapping[str, Any], role_names: Mapping[str, str]) -> dict[str, object]:
    conditions = policy.get("conditions") or {}
    users = conditions.get("users") or {}
    grant = policy.get("grantControls") or {}
    session = policy.get("sessionControls") or {}
    frequency = session.get("signInFrequency") or {}
    browser = session.get("persistentBrowser") or {}
    state = str(policy.get("state") or "")
    include_users = list(users.get("includeUsers") or [])
    applies = ["everyone"] if "All" in include_users else []
    applies += list(users.get("includeGroups") or [])
    minutes = None
    if frequency.get("isEnabled") and frequency.get("value") is not None:
        minutes = int(frequency["value"]) * _FREQUENCY_MINUTES.get(str(frequency.get("type")), 0)
        minutes = minutes or None
    include_roles = list(users.get("includeRoles") or [])
    record: dict[str, object] = {
        "kind": "session_policy",
        "id": str(policy["id"]),
        "name": str(policy.get("displayName") or policy["id"]),
        "type": "conditional_access",
        "enabled": state == "enabled",
        "applies_to": applies,
        "mfa_required": "mfa" in (grant.get("builtInControls") or [])
        or bool(grant.get("authenticationStrength")),
        "max_lifetime_minutes": minutes,
        "persistent_cookie": browser.get("mode") == "always" if browser.get("isEnabled") else None,
        "raw": {
            "state": state,
            "report_only": state == "enabledForReportingButNotEnforced",
            "include_users": include_users,
            "exclude_users": list(users.get("excludeUsers") or []),
            "exclude_groups": list(users.get("excludeGroups") or []),
            "include_roles": include_roles,
            "include_role_names": sorted(role_names.get(r, r) for r in include_roles),
            "targets_global_admin": GLOBAL_ADMIN in include_roles or "All" in include_users,
            "exclude_roles": list(users.get("excludeRoles") or []),
            "authentication_strength": (grant.get("authenticationStrength") or {}).get(
                "displayName"
            ),
            "grant_controls": list(grant.get("builtInControls") or []),
        },
    }
    return {k: v for k, v in record.items() if v is not None}
