"""Directory API objects -> normalised resources. Pure functions, no I/O.

Choices (docs/connectors/google.md says why):

- ``enabled`` is false for suspended, archived and deleted users; ``status`` keeps which.
- ``lastLoginTime`` ``1970-01-01T00:00:00.000Z`` means never: ``last_login_at`` is left out.
- ``mfa.enrolled`` / ``mfa.enforced`` are ``isEnrolledIn2Sv`` / ``isEnforcedIn2Sv``. The
  Directory API does not say which 2SV methods a user has, so ``methods`` and
  ``phishing_resistant`` are left out (missing, never false).
- Each third-party OAuth grant is an ``oauth_token`` credential of its user, tied to one
  ``oauth_client`` integration per client id (scopes and grantees summed over users).
- Application-specific passwords are ``app_password`` credentials; ``lastTimeUsed`` 0 is
  never used.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Mapping, Sequence
from typing import Any

from policyengine.connector.account_types import AccountFacts, TypeRules
from policyengine.model.timestamps import format_timestamp, to_timestamp

NEVER = "1970-01-01T00:00:00"
#: scope prefixes that reach mail, files or the admin console (policies match on these)
SENSITIVE_SCOPE_WORDS = ("mail.google.com", "/auth/gmail", "/auth/drive", "/auth/admin.")


def _time(value: Any) -> str | None:
    if not isinstance(value, str) or value.startswith(NEVER):
        return None
    return to_timestamp(value)


def _millis(value: Any) -> str | None:
    """``int64`` Unix milliseconds as a string; 0 (or absent) is never."""
    try:
        millis = int(str(value))
    except ValueError:
        return None
    if millis <= 0:
        return None
    return format_timestamp(dt.datetime.fromtimestamp(millis / 1000, tz=dt.UTC))


def employee_id(user: Mapping[str, Any]) -> str | None:
    ids = user.get("externalIds")
    for entry in ids if isinstance(ids, list) else []:
        if isinstance(entry, dict) and entry.get("type") == "organization" and entry.get("value"):
            return str(entry["value"])
    return None


def status(user: Mapping[str, Any], deleted: bool) -> str:
    if deleted:
        return "deleted"
    if user.get("suspended"):
        return "suspended"
    if user.get("archived"):
        return "archived"
    return "active"


def account(
    user: Mapping[str, Any],
    *,
    types: TypeRules,
    roles: list[str],
    groups: list[str],
    deleted: bool = False,
    activity: Mapping[str, Any] | None = None,
) -> dict[str, Any]:
    email = str(user.get("primaryEmail", ""))
    org_unit = str(user.get("orgUnitPath", ""))
    state = status(user, deleted)
    via = []
    if user.get("isAdmin"):
        via.append("super_admin")
    if user.get("isDelegatedAdmin"):
        via.append("delegated_admin")
    via += [f"role:{r}" for r in roles]
    record: dict[str, Any] = {
        "kind": "account",
        "id": str(user["id"]),
        "name": email,
        "email": email,
        "type": types.infer(AccountFacts(email, attrs={"orgUnitPath": [org_unit]})),
        "enabled": state == "active",
        "status": state,
        "privileged": bool(via),
        "privileged_via": via,
        "roles": roles,
        "groups": groups,
        "raw": {
            "orgUnitPath": org_unit,
            "isAdmin": bool(user.get("isAdmin")),
            "isDelegatedAdmin": bool(user.get("isDelegatedAdmin")),
        },
    }
    full_name = (user.get("name") or {}).get("fullName")
    if full_name:
        record["display_name"] = str(full_name)
    if "isEnrolledIn2Sv" in user or "isEnforcedIn2Sv" in user:
        record["mfa"] = {
            "enrolled": bool(user.get("isEnrolledIn2Sv")),
            "enforced": bool(user.get("isEnforcedIn2Sv")),
        }
    for field, value in (
        ("employee_id", employee_id(user)),
        ("created_at", _time(user.get("creationTime"))),
        ("last_login_at", _time(user.get("lastLoginTime"))),
    ):
        if value:
            record[field] = value
    if activity is not None:
        record["activity"] = dict(activity)
    for key in ("suspensionReason", "deletionTime", "archived", "isGuestUser"):
        if key in user:
            record["raw"][key] = user[key]
    return record


def role_name(item: Mapping[str, Any]) -> str:
    """The console's name: system roles' ``roleName`` is internal (``_SEED_ADMIN_ROLE``),
    their ``roleDescription`` is what the console shows (``Super Admin``)."""
    if item.get("isSuperAdminRole"):
        return "Super Admin"
    if item.get("isSystemRole") and item.get("roleDescription"):
        return str(item["roleDescription"])
    return str(item.get("roleName", ""))


def role(item: Mapping[str, Any], assignments: Sequence[Mapping[str, Any]]) -> dict[str, Any]:
    privileges = item.get("rolePrivileges") or []
    return {
        "kind": "role",
        "id": str(item["roleId"]),
        "name": role_name(item),
        "type": "super_admin" if item.get("isSuperAdminRole") else "admin",
        "privileged": True,  # every Workspace admin role reaches the admin console
        "members": sorted({str(a["assignedTo"]) for a in assignments if a.get("assignedTo")}),
        "permissions": sorted({str(p.get("privilegeName")) for p in privileges if p}),
        "raw": {
            "roleName": item.get("roleName", ""),
            "description": item.get("roleDescription", ""),
            "isSuperAdminRole": bool(item.get("isSuperAdminRole")),
            "isSystemRole": bool(item.get("isSystemRole")),
            "assignments": [
                {
                    "assignedTo": a.get("assignedTo"),
                    "assigneeType": a.get("assigneeType"),
                    "scopeType": a.get("scopeType"),
                    "orgUnitId": a.get("orgUnitId"),
                    "condition": a.get("condition"),
                }
                for a in assignments
            ],
        },
    }


def group(item: Mapping[str, Any], members: Iterable[str]) -> dict[str, Any]:
    return {
        "kind": "group",
        "id": str(item["id"]),
        "name": str(item.get("email") or item.get("name", "")),
        "members": sorted(set(members)),
        "raw": {"name": item.get("name", ""), "adminCreated": bool(item.get("adminCreated"))},
    }


def oauth_token(user_id: str, token: Mapping[str, Any]) -> dict[str, Any]:
    client_id = str(token["clientId"])
    return {
        "kind": "credential",
        "id": f"{user_id}:oauth:{client_id}",
        "name": str(token.get("displayText") or client_id),
        "type": "oauth_token",
        "owner": user_id,
        "integration": client_id,
        "scopes": sorted(str(s) for s in token.get("scopes") or []),
        "enabled": True,
        "raw": {
            "clientId": client_id,
            "nativeApp": bool(token.get("nativeApp")),
            "anonymous": bool(token.get("anonymous")),
        },
    }


def integration(
    client_id: str,
    grants: Sequence[Mapping[str, Any]],
    *,
    activity: Mapping[str, Any] | None = None,
) -> dict[str, Any]:
    """One third-party app: ``grants`` are its credential records (one per user);
    ``activity`` its ``authorize`` events in the Reports window (None: not read)."""
    scopes = sorted({s for g in grants for s in g["scopes"]})
    record: dict[str, Any] = {
        "kind": "integration",
        "id": client_id,
        "name": str(grants[0]["name"]),
        "type": "oauth_client",
        "scopes": scopes,
        "authorized_users": sorted({str(g["owner"]) for g in grants}),
        "enabled": True,
        "raw": {
            "nativeApp": any(g["raw"]["nativeApp"] for g in grants),
            "anonymous": any(g["raw"]["anonymous"] for g in grants),
            "grant_count": len(grants),
            "sensitive_scopes": [s for s in scopes if any(w in s for w in SENSITIVE_SCOPE_WORDS)],
        },
    }
    if activity is not None:
        record["activity"] = dict(activity)
    return record


def app_password(user_id: str, asp: Mapping[str, Any]) -> dict[str, Any]:
    record: dict[str, Any] = {
        "kind": "credential",
        "id": f"{user_id}:asp:{asp['codeId']}",
        "name": str(asp.get("name", "")),
        "type": "app_password",
        "owner": user_id,
        "enabled": True,
        "raw": {"codeId": asp["codeId"]},
    }
    created = _millis(asp.get("creationTime"))
    used = _millis(asp.get("lastTimeUsed"))
    if created:
        record["created_at"] = created
    if used:
        record["last_used_at"] = used
    return record


def setting(policy: Mapping[str, Any]) -> dict[str, Any]:
    """One Cloud Identity policy: its setting type and value, and where it applies."""
    body = policy.get("setting") or {}
    query = policy.get("policyQuery") or {}
    kind = str(body.get("type", "")).removeprefix("settings/")
    return {
        "kind": "setting",
        "id": str(policy.get("name", kind)),
        "name": kind,
        "category": kind.split(".", 1)[0],
        "value": body.get("value", {}),
        "raw": {
            "orgUnit": query.get("orgUnit", ""),
            "group": query.get("group", ""),
            "type": policy.get("type", ""),
        },
    }
