"""Okta objects -> normalised resources. Pure functions, no I/O.

Choices (see docs/connectors/okta.md for the reasoning):

- ``enabled``: ACTIVE, PASSWORD_EXPIRED, LOCKED_OUT and RECOVERY users can
  still get a session (after a password change, an unlock or a reset), so
  they are enabled; STAGED and PROVISIONED (never activated / activation
  pending), SUSPENDED and DEPROVISIONED are not. ``locked`` is LOCKED_OUT;
  ``status`` keeps Okta's word.
- MFA counts only ACTIVE factors (of Okta's FactorStatus values PENDING_ACTIVATION,
  ACTIVE, INACTIVE, NOT_SETUP, ENROLLED, DISABLED, EXPIRED). ``question`` (security question) is a
  knowledge factor and is not MFA. FastPass (``signed_nonce``) is counted as
  ``platform`` and phishing resistant.
- A field Okta did not send (or sent as null) is left out: missing, never
  ``false``. Data that could not be read (factors, roles) leaves the
  corresponding normalised fields out, and the run is marked incomplete.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping, Sequence
from typing import Any

from policyengine.connector.account_types import AccountFacts, TypeRule, infer_type
from policyengine.model.kinds import PHISHING_RESISTANT_METHODS
from policyengine.model.timestamps import to_timestamp

ENABLED_STATUSES = frozenset({"ACTIVE", "PASSWORD_EXPIRED", "LOCKED_OUT", "RECOVERY"})
#: Factor statuses that count as an MFA method the user can sign in with. ENROLLED
#: (not described in Okta's spec; /users/{id}/factors reports a usable factor as
#: ACTIVE) and DISABLED (switched off by an admin) do not.
COUNTED_FACTOR_STATUSES = frozenset({"ACTIVE"})

#: factorType -> normalised method (None: not an MFA method).
FACTOR_METHODS: dict[str, str | None] = {
    "webauthn": "webauthn",
    "u2f": "fido2",
    "signed_nonce": "platform",  # Okta FastPass (Okta Verify, device-bound key)
    "push": "push",
    "token:software:totp": "totp",
    "token:hardware": "totp",  # YubiKey OTP / hardware OTP: a one-time code
    "token:hotp": "totp",
    "hotp": "totp",
    "token": "totp",  # RSA SecurID / Symantec VIP codes
    "sms": "sms",
    "call": "voice",
    "email": "email",
    "web": "push",  # Duo Security (web prompt, typically a push)
    "question": None,
}

#: An Okta user id (``00u`` + 17 characters): the only ``managerId`` taken as an ``owner``.
_USER_ID = re.compile(r"^00u[0-9A-Za-z]{17}$")
#: Account types that have an owner (a human has a manager, not an owner).
OWNED_TYPES = frozenset({"service", "shared", "break_glass"})

#: user keys that are secrets or noise; everything else is kept in ``raw``
_DROP_USER_KEYS = frozenset({"_links", "_embedded", "credentials"})


#: Okta's ``2026-01-01T00:00:00.000Z`` (or any offset) -> ``2026-01-01T00:00:00Z``; None if not a time
timestamp = to_timestamp


def _put(out: dict[str, Any], key: str, value: Any) -> None:
    """Set ``key`` only when there is a value: absent stays absent."""
    if value is not None and value != "":
        out[key] = value


def account_type(
    login: str, rules: Iterable[TypeRule], profile: Mapping[str, Any] | None = None
) -> str:
    """The first matching rule's type over the login and the profile attributes, else human."""
    attrs = {k: [str(v)] for k, v in (profile or {}).items() if isinstance(v, str | int | bool)}
    return infer_type(rules, AccountFacts(login, attrs=attrs))


def mfa(factors: Iterable[Mapping[str, Any]]) -> dict[str, Any]:
    """``{enrolled, methods, phishing_resistant}`` from a user's factors (ACTIVE only)."""
    methods: set[str] = set()
    for factor in factors:
        if factor.get("status") not in COUNTED_FACTOR_STATUSES:
            continue
        method = FACTOR_METHODS.get(str(factor.get("factorType", "")))
        if method:
            methods.add(method)
    return {
        "enrolled": bool(methods),
        "methods": sorted(methods),
        "phishing_resistant": bool(methods & PHISHING_RESISTANT_METHODS),
    }


def factor_summary(factors: Iterable[Mapping[str, Any]]) -> list[dict[str, Any]]:
    """What ``raw.factors`` keeps: no profile (phone numbers, credential ids)."""
    keys = ("id", "factorType", "provider", "vendorName", "status", "created", "lastUpdated")
    return [{k: f[k] for k in keys if k in f} for f in factors]


def role_label(role: Mapping[str, Any]) -> str:
    """A role's name for ``roles``: its type (``SUPER_ADMIN``), a custom role's label."""
    rtype = str(role.get("type") or "")
    if rtype == "CUSTOM" or not rtype:
        return f"CUSTOM:{role.get('label') or role.get('role') or role.get('id')}"
    return rtype


def owner_of(account_type: str, profile: Mapping[str, Any]) -> str | None:
    """A non-human account's ``owner``: the profile's ``managerId`` when it is an Okta user id.

    ``managerId`` (default profile, "ID of a user's manager") is free text that
    HR imports often fill with an employee number; only an Okta user id can
    be a reference. Anything else stays in ``raw`` and ``owner`` is missing,
    so "service accounts have an owner" still reports it.
    """
    manager = profile.get("managerId")
    if account_type in OWNED_TYPES and isinstance(manager, str) and _USER_ID.match(manager):
        return manager
    return None


def account(
    user: Mapping[str, Any],
    *,
    type_rules: Iterable[TypeRule],
    factors: Sequence[Mapping[str, Any]] | None,
    direct_roles: Sequence[Mapping[str, Any]] | None,
    admin_groups: Sequence[tuple[str, Sequence[str]]] | None,
    session: tuple[Mapping[str, Any], Sequence[str]] | None = None,
) -> dict[str, Any]:
    """One Okta user as an ``account``.

    ``factors`` / ``direct_roles`` / ``admin_groups`` are None when they
    could not be read: the fields that depend on them are left out.
    ``admin_groups`` is ``[(group name, [role names])]`` for the admin groups
    the user is in. ``session`` is the effective session limits and the ids
    of the rules they come from (see ``_sessions``), None when unknown.
    """
    profile = user.get("profile") or {}
    login = str(profile.get("login") or "")
    status = user.get("status")
    out: dict[str, Any] = {"kind": "account", "id": str(user["id"]), "name": login or user["id"]}
    out["type"] = account_type(login, type_rules, profile)
    if isinstance(status, str):
        out["status"] = status
        out["enabled"] = status in ENABLED_STATUSES
        out["locked"] = status == "LOCKED_OUT"
    _put(out, "email", profile.get("email"))
    _put(out, "employee_id", profile.get("employeeNumber"))
    _put(out, "owner", owner_of(out["type"], profile))
    _put(out, "created_at", timestamp(user.get("created")))
    _put(out, "last_login_at", timestamp(user.get("lastLogin")))
    _put(out, "password_last_set_at", timestamp(user.get("passwordChanged")))
    raw = {k: v for k, v in user.items() if k not in _DROP_USER_KEYS}
    provider = (user.get("credentials") or {}).get("provider")
    if provider:
        raw["credentials"] = {"provider": provider}
    if factors is not None:
        out["mfa"] = mfa(factors)
        raw["factors"] = factor_summary(factors)
    if direct_roles is not None and admin_groups is not None:
        roles: set[str] = set()
        via: list[str] = []
        for role in direct_roles:
            if role.get("assignmentType", "USER") != "USER":
                continue  # group-assigned: counted through the group below
            name = role_label(role)
            roles.add(name)
            via.append(f"role:{name}")
        for group_name, group_roles in admin_groups:
            roles.update(group_roles)
            via.append(f"group:{group_name}")
        # a GROUP-assigned role whose group we did not see still makes the user privileged
        for role in direct_roles:
            if role.get("assignmentType") == "GROUP" and role_label(role) not in roles:
                roles.add(role_label(role))
                via.append(f"role:{role_label(role)}")
        out["roles"] = sorted(roles)
        out["privileged"] = bool(roles)
        out["privileged_via"] = sorted(set(via))
        raw["role_assignments"] = [
            {k: r[k] for k in ("id", "type", "label", "assignmentType", "status") if k in r}
            for r in direct_roles
        ]
    if session is not None:
        out["session"] = dict(session[0])
        raw["session_rules"] = list(session[1])
    out["raw"] = raw
    return out


def group(
    okta_group: Mapping[str, Any],
    roles: Sequence[Mapping[str, Any]],
    members: Sequence[str] | None,
) -> dict[str, Any]:
    """An admin-role-carrying Okta group as a privileged ``group``."""
    profile = okta_group.get("profile") or {}
    names = sorted({role_label(r) for r in roles})
    out: dict[str, Any] = {
        "kind": "group",
        "id": str(okta_group["id"]),
        "name": str(profile.get("name") or okta_group["id"]),
        "type": str(okta_group.get("type") or ""),
        "privileged": bool(names),
        "roles": names,
        "privileged_via": [f"role:{n}" for n in names],
    }
    _put(out, "created_at", timestamp(okta_group.get("created")))
    if members is not None:
        out["members"] = sorted(members)
    raw = {k: v for k, v in okta_group.items() if k != "_links"}
    raw["role_assignments"] = [
        {k: r[k] for k in ("id", "type", "label", "assignmentType", "status") if k in r}
        for r in roles
    ]
    out["raw"] = raw
    return out


def credential(token: Mapping[str, Any]) -> dict[str, Any]:
    """An Okta API token (metadata only: Okta never returns the secret after creation).

    ``lastUpdated`` is not the last use; Okta's API does not expose last use,
    so ``last_used_at`` is left out and ``lastUpdated`` stays in ``raw``.
    """
    out: dict[str, Any] = {
        "kind": "credential",
        "type": "api_token",
        "id": str(token["id"]),
        "name": str(token.get("name") or token["id"]),
    }
    _put(out, "owner", token.get("userId"))
    _put(out, "created_at", timestamp(token.get("created")))
    # an Okta API token's value never changes: rotating means creating a new token
    _put(out, "last_rotated_at", timestamp(token.get("created")))
    _put(out, "expires_at", timestamp(token.get("expiresAt")))
    out["raw"] = {k: v for k, v in token.items() if k != "_links"}
    return out


def session_policy(
    policy: Mapping[str, Any], rule: Mapping[str, Any], *, everyone_group: str | None
) -> dict[str, Any]:
    """One global session (OKTA_SIGN_ON) policy rule as a ``session_policy``.

    ``maxSessionLifetimeMinutes: 0`` means "no limit" in Okta: it is left
    out (missing), so a policy requiring a limit fails closed on it, and
    ``raw`` keeps the 0.
    """
    signon = ((rule.get("actions") or {}).get("signon")) or {}
    session = signon.get("session") or {}
    rule_groups = (((rule.get("conditions") or {}).get("people") or {}).get("groups") or {}).get(
        "include"
    )
    policy_groups = (
        ((policy.get("conditions") or {}).get("people") or {}).get("groups") or {}
    ).get("include")
    groups = list(rule_groups or policy_groups or [])
    applies_to = ["everyone"] if not groups or everyone_group in groups else sorted(groups)
    out: dict[str, Any] = {
        "kind": "session_policy",
        "id": str(rule["id"]),
        "name": f"{policy.get('name', policy.get('id'))} / {rule.get('name', rule['id'])}",
        "type": "okta_sign_on_rule",
        "applies_to": applies_to,
    }
    lifetime = session.get("maxSessionLifetimeMinutes")
    if isinstance(lifetime, int | float) and not isinstance(lifetime, bool) and lifetime > 0:
        out["max_lifetime_minutes"] = lifetime
    idle = session.get("maxSessionIdleMinutes")
    if isinstance(idle, int | float) and not isinstance(idle, bool) and idle > 0:
        out["idle_timeout_minutes"] = idle
    if isinstance(signon.get("requireFactor"), bool):
        out["mfa_required"] = signon["requireFactor"]
    if isinstance(session.get("usePersistentCookie"), bool):
        out["persistent_cookie"] = session["usePersistentCookie"]
    if isinstance(rule.get("priority"), int):
        out["priority"] = rule["priority"]
    if isinstance(rule.get("status"), str):
        out["enabled"] = rule["status"] == "ACTIVE" and policy.get("status", "ACTIVE") == "ACTIVE"
    _put(out, "created_at", timestamp(rule.get("created")))
    out["raw"] = {
        "policy": {
            k: policy[k]
            for k in ("id", "name", "priority", "status", "system", "conditions")
            if k in policy
        },
        "rule": {k: v for k, v in rule.items() if k != "_links"},
    }
    return out


def role_resources(
    holders: Mapping[str, Iterable[str]], *, members_known: bool
) -> list[dict[str, Any]]:
    """One ``role`` per admin role held in the org (``SUPER_ADMIN``, ``CUSTOM:<label>``, ...).

    ``holders`` maps a role name (as in ``account.roles``) to the ids of the
    accounts holding it, directly or through an admin group. Policies count
    a role's enabled holders through ``members`` (PE-PRIV-004: two to four
    super admins; PE-PRIV-002: two break-glass ones). When some users' roles
    could not be read, the member lists would be short: ``members`` is then
    left out (missing, so a count over it fails closed), not undercounted.
    """
    out: list[dict[str, Any]] = []
    for name in sorted(holders):
        resource: dict[str, Any] = {
            "kind": "role",
            "id": f"role:{name}",
            "name": name,
            "type": "okta_admin_role",
            "privileged": True,
            "raw": {"role": name},
        }
        if members_known:
            resource["members"] = sorted(set(holders[name]))
        out.append(resource)
    return out
