"""Salesforce records -> normalised resources (account, integration, credential, ...).

Pure functions over what was collected; no I/O. The rule throughout: a value
the org did not give us is *missing* (the key is left out), never ``False``.
When an object could not be read completely (``Org.complete``), a derived
boolean that could only become true with more data (``privileged``) is
reported when true and left missing otherwise.
"""

from __future__ import annotations

import hashlib
import re
from collections import defaultdict
from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import unquote

from connectors.salesforce._options import SalesforceOptions
from connectors.salesforce._time import sf_time

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

#: Org SessionTimeout literals (Metadata API enum) -> minutes.
SESSION_TIMEOUTS: dict[str, int] = {
    "FifteenMinutes": 15,
    "ThirtyMinutes": 30,
    "SixtyMinutes": 60,
    "NinetyMinutes": 90,
    "TwoHours": 120,
    "FourHours": 240,
    "EightHours": 480,
    "TwelveHours": 720,
    "TwentyFourHours": 1440,
}

#: Metadata ConnectedApp ``oauthPolicy.refreshTokenPolicy`` and External Client App
#: ``refreshTokenPolicyType`` (lower case, without ``_``) -> normalised words.
REFRESH_POLICIES: dict[str, str] = {
    "infinite": "until_revoked",
    "infinitelifetime": "until_revoked",
    "immediately": "expire_immediately",
    "immediatelyexpire": "expire_immediately",
    "zero": "expire_immediately",
    "specificlifetime": "expire_after_period",
    "specificinactivity": "expire_after_inactivity",
}


def refresh_policy(value: Any) -> str | None:
    """``refresh_token_policy`` for a metadata literal; None (missing) when unknown."""
    if not isinstance(value, str):
        return None
    return REFRESH_POLICIES.get(value.replace("_", "").lower())


@dataclass(slots=True)
class Org:
    """Everything collected from one org, keyed for the mappers."""

    users: list[dict[str, Any]] = field(default_factory=list)
    permission_sets: dict[str, dict[str, Any]] = field(default_factory=dict)
    assignments: list[dict[str, Any]] = field(default_factory=list)
    permission_set_groups: dict[str, dict[str, Any]] = field(default_factory=dict)
    mfa: dict[str, dict[str, Any]] = field(default_factory=dict)
    logins: dict[str, dict[str, Any]] = field(default_factory=dict)
    apps: list[dict[str, Any]] = field(default_factory=list)
    menu_items: list[dict[str, Any]] = field(default_factory=list)
    tokens: list[dict[str, Any]] = field(default_factory=list)
    security_settings: dict[str, Any] | None = None
    connected_app_settings: dict[str, Any] | None = None
    app_metadata: list[dict[str, Any]] = field(default_factory=list)
    profile_metadata: list[dict[str, Any]] = field(default_factory=list)
    profile_sessions: list[dict[str, Any]] = field(default_factory=list)
    #: External Client Apps (Metadata): the apps, their admin policies, their OAuth settings
    ecas: list[dict[str, Any]] = field(default_factory=list)
    eca_policies: list[dict[str, Any]] = field(default_factory=list)
    eca_settings: list[dict[str, Any]] = field(default_factory=list)
    #: objects read completely (SOQL object or ``md:<MetadataType>``)
    complete: set[str] = field(default_factory=set)
    #: gated PermissionSet fields this org does not have (INVALID_FIELD)
    unavailable_permissions: set[str] = field(default_factory=set)


def clean(value: Any) -> Any:
    """A record without the ``attributes`` envelopes, for ``raw``."""
    if isinstance(value, dict):
        return {k: clean(v) for k, v in value.items() if k != "attributes"}
    if isinstance(value, list):
        return [clean(v) for v in value]
    return value


def _drop_none(resource: dict[str, Any]) -> dict[str, Any]:
    return {k: v for k, v in resource.items() if v is not None}


def _bool(record: Mapping[str, Any], key: str) -> bool | None:
    value = record.get(key)
    return value if isinstance(value, bool) else None


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
    for ps in org.permission_sets.values():
        if ps.get("IsOwnedByProfile") and ps.get("ProfileId"):
            by_profile[ps["ProfileId"]] = ps
    grants: dict[str, list[Grant]] = defaultdict(list)
    seen: set[tuple[str, str]] = set()
    granted: dict[str, frozenset[str]] = {}  # per permission set, not per user

    def perms_of(ps: Mapping[str, Any]) -> frozenset[str]:
        if ps["Id"] not in granted:
            granted[ps["Id"]] = frozenset(granted_permissions(ps))
        return granted[ps["Id"]]

    for user in org.users:
        ps = by_profile.get(user.get("ProfileId") or "")
        if ps is not None and user.get("Id"):
            profile_name = (user.get("Profile") or {}).get("Name") or ps.get("Label") or ps["Id"]
            grants[user["Id"]].append(Grant("profile", profile_name, perms_of(ps)))
            seen.add((user["Id"], ps["Id"]))
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
    return _drop_none(
        {"enrolled": enrolled, "methods": sorted(methods), "phishing_resistant": resistant}
    )


def account_type(user: Mapping[str, Any], permissions: set[str], options: SalesforceOptions) -> str:
    """``service`` for integration users (profile, license, API-only, name rule), else human."""
    profile = user.get("Profile") or {}
    license_name = (profile.get("UserLicense") or {}).get("Name")
    if profile.get("Name") in options.integration_profiles:
        return "service"
    if license_name == "Salesforce Integration" or "ApiUserOnly" in permissions:
        return "service"
    if user.get("UserType") == "AutomatedProcess":
        return "service"
    pattern = options.service_account_pattern
    if pattern is not None and pattern.search(str(user.get("Username") or "")):
        return "service"
    return "human"


def org_idle_minutes(org: Org) -> int | None:
    settings = (org.security_settings or {}).get("sessionSettings") or {}
    return SESSION_TIMEOUTS.get(str(settings.get("sessionTimeout")))


def _int(value: Any) -> int | None:
    if isinstance(value, bool):
        return None
    if isinstance(value, int):
        return value
    if isinstance(value, str) and value.strip().isdigit():
        return int(value)
    return None


def profile_idle_minutes(org: Org) -> dict[str, int]:
    """ProfileSessionSetting.sessionTimeout (minutes) by profile name, casefolded.

    The override replaces the org-wide value for that profile's users.
    """
    out: dict[str, int] = {}
    for setting in org.profile_sessions:
        minutes = _int(setting.get("sessionTimeout"))
        if minutes is None:
            continue
        for name in (setting.get("profile"), setting.get("fullName")):
            if isinstance(name, str) and name:
                out.setdefault(_norm(profile_label(name)), minutes)
    return out


def map_accounts(org: Org, options: SalesforceOptions) -> Iterator[dict[str, Any]]:
    grants = user_grants(org)
    perms_complete = {"PermissionSet", "PermissionSetAssignment"} <= org.complete
    mfa_known = "TwoFactorMethodsInfo" in org.complete
    logins_known = "UserLogin" in org.complete
    idle = org_idle_minutes(org)
    profile_idle = profile_idle_minutes(org)
    sms_identity = _bool(
        (org.security_settings or {}).get("sessionSettings") or {}, "enableSMSIdentity"
    )
    privileged_set = set(options.privileged_permissions)
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
        user_idle = profile_idle.get(_norm(str(profile.get("Name") or "")), idle)
        roles = [g.name for g in user_grants_] or ([profile["Name"]] if profile.get("Name") else [])
        login = org.logins.get(user_id)
        flags = ["frozen"] if login and login.get("IsFrozen") is True else []
        user_type = user.get("UserType")
        if user_type == "Guest":
            flags.append("guest")
        elif isinstance(user_type, str) and user_type not in ("Standard", "AutomatedProcess"):
            flags.append("external")  # partner / customer portal and community users
        yield _drop_none(
            {
                "kind": "account",
                "id": user_id,
                "name": user.get("Username"),
                "source_type": "salesforce",
                "type": account_type(user, permissions, options),
                "enabled": _bool(user, "IsActive"),
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
                    _bool(login, "IsPasswordLocked") if login else (False if logins_known else None)
                ),
                "flags": flags,
                "raw": _account_raw(user, org.mfa.get(user_id)),
            }
        )


def _account_raw(user: Mapping[str, Any], methods: Mapping[str, Any] | None) -> dict[str, Any]:
    raw: dict[str, Any] = clean(user)
    if methods is not None:
        raw["TwoFactorMethodsInfo"] = clean(methods)
    return raw


def _norm(name: str) -> str:
    return re.sub(r"\s+", " ", name).strip().casefold()


def normalise_scopes(scopes: Iterable[str]) -> list[str]:
    """Metadata scope literals (``Full``, ``RefreshToken``) -> OAuth words (``full``, ...).

    ``full`` also yields ``full_access`` and ``offline_access`` also yields
    ``refresh_token`` (Salesforce treats them as the same scope), so a
    policy can match either spelling.
    """
    out: set[str] = set()
    for scope in scopes:
        text = str(scope)
        word = "openid" if text.lower() == "openid" else _snake(text)
        out.add(word)
        if word == "full":
            out.add("full_access")
        if word == "offline_access":
            out.add("refresh_token")
    return sorted(out)


def _snake(text: str) -> str:
    return re.sub(r"(?<=[a-z0-9])(?=[A-Z])", "_", text).lower()


def ip_restricted(relaxation: Any) -> bool | None:
    """``oauthPolicy.ipRelaxation``: only a plain ENFORCE restricts every use.

    BYPASS (relax), Bypass_2factor and the "enforce, but relax for refresh
    tokens / activated devices" variants all let a refresh token be used from
    anywhere, which is how an exfiltration tool keeps access: not restricted.
    """
    if not isinstance(relaxation, str) or not relaxation:
        return None
    value = relaxation.upper()
    if value == "ENFORCE":
        return True
    if any(word in value for word in ("BYPASS", "RELAX", "ACTIVATED")):
        return False
    return None


def _token_key(token: Mapping[str, Any]) -> str:
    # OauthToken.Id is reserved and always null: key on (UserId, AppName, CreatedDate).
    material = "\x1f".join(
        str(token.get(k) or "") for k in ("UserId", "AppName", "CreatedDate", "AppMenuItemId")
    )
    return hashlib.sha256(material.encode("utf-8")).hexdigest()[:16]


def _id15(value: Any) -> str:
    """Salesforce ids compare on their first 15 characters (18 adds a checksum)."""
    return str(value or "")[:15]


def map_integrations_and_credentials(org: Org) -> Iterator[dict[str, Any]]:
    """Installed connected apps, External Client Apps, apps known only from tokens
    (``uninstalled:<AppName>``), and one credential per token.

    A token belongs to an installed app through its ``AppMenuItemId`` (the App
    Launcher item whose ``ApplicationId`` is the app) or, failing that, by name:
    ``OauthToken.AppName`` is the app's label, compared with the app's Name, its
    menu item's Label and its metadata label, ignoring case.
    """
    tokens_known = "OauthToken" in org.complete
    metadata_by_name: dict[str, dict[str, Any]] = {}
    for md in org.app_metadata:
        for key in (md.get("fullName"), md.get("label")):
            if isinstance(key, str) and key:
                metadata_by_name.setdefault(_norm(key), md)
    menus_by_app: dict[str, list[dict[str, Any]]] = defaultdict(list)
    for menu in org.menu_items:
        if menu.get("ApplicationId"):
            menus_by_app[_id15(menu["ApplicationId"])].append(menu)
    user_ids = {u.get("Id") for u in org.users}

    # Every installed app (connected app or External Client App), with its names.
    installed: list[dict[str, Any]] = []
    by_name: dict[str, dict[str, Any]] = {}
    by_menu: dict[str, dict[str, Any]] = {}
    for app in org.apps:
        menus = menus_by_app.get(_id15(app["Id"]), [])
        names = {app.get("Name")} | {m.get("Label") for m in menus} | {m.get("Name") for m in menus}
        keys = {_norm(n) for n in names if isinstance(n, str) and n}
        md = next((metadata_by_name[k] for k in sorted(keys) if k in metadata_by_name), {})
        if isinstance(md.get("label"), str):
            keys.add(_norm(md["label"]))
        label = next((m["Label"] for m in menus if m.get("Label")), None) or md.get("label")
        entry = {"kind": "connected_app", "id": app["Id"], "app": app, "md": md, "tokens": []}
        entry["name"] = label or app.get("Name")
        installed.append(entry)
        for key in keys:
            by_name.setdefault(key, entry)
        for menu in menus:
            by_menu[_id15(menu.get("Id"))] = entry
    for eca in _external_client_apps(org):
        entry = {"kind": "eca", "id": f"eca:{eca['full_name']}", "eca": eca, "tokens": []}
        installed.append(entry)
        for key in {_norm(k) for k in (eca["name"], eca["full_name"]) if k}:
            by_name.setdefault(key, entry)

    uninstalled: dict[str, dict[str, Any]] = {}
    owner_of: list[dict[str, Any] | None] = []
    for token in org.tokens:
        name = str(token.get("AppName") or "")
        entry = (
            by_menu.get(_id15(token.get("AppMenuItemId"))) if token.get("AppMenuItemId") else None
        )
        entry = entry or by_name.get(_norm(name))
        if entry is None and name:
            entry = uninstalled.setdefault(
                _norm(name),
                {"kind": "uninstalled", "id": f"uninstalled:{name}", "name": name, "tokens": []},
            )
        if entry is not None:
            entry["tokens"].append(token)
        owner_of.append(entry)

    inventory_known = "ConnectedApplication" in org.complete
    for entry in [*installed, *sorted(uninstalled.values(), key=lambda e: e["id"])]:
        if entry["kind"] == "eca":
            resource = _eca_integration(entry["eca"], entry["tokens"], tokens_known, user_ids)
        else:
            app = entry.get("app")
            resource = _integration(
                entry["id"], entry["name"], entry["tokens"], tokens_known,
                entry.get("md") or {}, app, user_ids,
            )  # fmt: skip
            if app is None and not inventory_known:
                resource.pop("installed", None)  # we could not see the installed apps
        entry["scopes"] = resource.get("scopes")
        yield resource

    used: dict[str, int] = defaultdict(int)
    usernames = {u.get("Id"): u.get("Username") for u in org.users}
    for token, entry in zip(org.tokens, owner_of, strict=True):
        base = f"oauth_token:{_token_key(token)}"
        used[base] += 1
        token_id = base if used[base] == 1 else f"{base}-{used[base]}"
        use_count = token.get("UseCount")
        yield _drop_none(
            {
                "kind": "credential",
                "id": token_id,
                "name": f"{token.get('AppName')} token of "
                f"{usernames.get(token.get('UserId')) or token.get('UserId')}",
                "source_type": "salesforce",
                "type": "oauth_token",
                "owner": token.get("UserId"),
                "integration": entry["id"] if entry else None,
                "scopes": entry.get("scopes") if entry else None,
                "created_at": sf_time(token.get("CreatedDate")),
                "last_used_at": sf_time(token.get("LastUsedDate")),
                "use_count": use_count if isinstance(use_count, int) else None,
                "raw": clean(token),
            }
        )


def _integration(
    integration_id: str,
    name: Any,
    tokens: list[dict[str, Any]],
    tokens_known: bool,
    md: Mapping[str, Any],
    app: Mapping[str, Any] | None,
    user_ids: set[Any],
) -> dict[str, Any]:
    """A connected app (``app`` is its ConnectedApplication row; None when not installed)."""
    policy = md.get("oauthPolicy") or {}
    scopes = (md.get("oauthConfig") or {}).get("scopes")
    last_used = [t for t in (sf_time(x.get("LastUsedDate")) for x in tokens) if t]
    refresh: str | None = refresh_policy(policy.get("refreshTokenPolicy"))
    if (
        refresh is None
        and app is not None
        and isinstance(app.get("RefreshTokenValidityPeriod"), int)
    ):
        refresh = "expire_after_period"  # unit not exposed on the object
    owner = app.get("CreatedById") if app else None
    raw: dict[str, Any] = {"kind": "connected_app"}
    if app:
        raw["connected_application"] = clean(app)
    if md:
        raw["metadata"] = md
    raw["token_count"] = len(tokens)
    return _drop_none(
        {
            "kind": "integration",
            "id": integration_id,
            "name": name,
            "source_type": "salesforce",
            "type": "connected_app",
            "installed": app is not None,
            # An uninstalled app cannot be set to "admin approved users are
            # pre-authorized": any user may authorise it.
            "admin_approved": _bool(app, "OptionsAllowAdminApprovedUsersOnly") if app else False,
            "high_assurance_required": _bool(app, "OptionsHasSessionLevelPolicy") if app else None,
            "refresh_token_policy": refresh,
            "scopes": normalise_scopes(scopes) if scopes else None,
            "ip_restricted": ip_restricted(policy.get("ipRelaxation")),
            "publisher": _publisher(md.get("contactEmail")),
            "authorized_users": _authorized(tokens, tokens_known),
            "created_at": sf_time(app.get("CreatedDate")) if app else None,
            "last_used_at": max(last_used) if last_used else None,
            "owner": owner if owner in user_ids else None,
            "raw": raw,
        }
    )


def _authorized(tokens: list[dict[str, Any]], tokens_known: bool) -> list[str] | None:
    if not tokens_known:
        return None
    return sorted({t["UserId"] for t in tokens if t.get("UserId")})


def _external_client_apps(org: Org) -> Iterator[dict[str, Any]]:
    """External Client Apps joined with their OAuth policies and settings by app name."""
    policies = {_norm(str(p.get("externalClientApplication") or "")): p for p in org.eca_policies}
    settings = {_norm(str(s.get("externalClientApplication") or "")): s for s in org.eca_settings}
    for eca in org.ecas:
        full_name = str(eca.get("fullName") or "")
        key = _norm(full_name)
        yield {
            "full_name": full_name,
            "name": str(eca.get("label") or full_name),
            "app": eca,
            "policy": policies.get(key),
            "settings": settings.get(key),
        }


def _eca_integration(
    eca: Mapping[str, Any], tokens: list[dict[str, Any]], tokens_known: bool, user_ids: set[Any]
) -> dict[str, Any]:
    """An External Client App (the successor of connected apps from Spring '26)."""
    policy = eca["policy"] or {}
    settings = eca["settings"]
    permitted = policy.get("permittedUsersPolicyType")
    action = policy.get("policyAction")
    scopes_text = (settings or {}).get("commaSeparatedOauthScopes")
    scopes = [s.strip() for s in str(scopes_text).split(",") if s.strip()] if scopes_text else None
    last_used = [t for t in (sf_time(x.get("LastUsedDate")) for x in tokens) if t]
    return _drop_none(
        {
            "kind": "integration",
            "id": f"eca:{eca['full_name']}",
            "name": eca["name"],
            "source_type": "salesforce",
            "type": "connected_app",
            "installed": True,
            "admin_approved": (
                permitted == "AdminApprovedPreAuthorized" if isinstance(permitted, str) else None
            ),
            "high_assurance_required": (
                action == "RaiseSessionLevel" if isinstance(action, str) else None
            ),
            "refresh_token_policy": refresh_policy(policy.get("refreshTokenPolicyType")),
            "scopes": normalise_scopes(scopes) if scopes else None,
            "ip_restricted": ip_restricted(policy.get("ipRelaxationPolicyType")),
            "publisher": _publisher(eca["app"].get("contactEmail")),
            "authorized_users": _authorized(tokens, tokens_known),
            "last_used_at": max(last_used) if last_used else None,
            "raw": {
                "kind": "external_client_app",
                "app": eca["app"],
                "policy": eca["policy"],
                "oauth_settings": settings,
                "token_count": len(tokens),
            },
        }
    )


def _publisher(contact: Any) -> str | None:
    """The domain of the app's contact email (``dataloader@salesforce.com`` -> salesforce.com)."""
    if not isinstance(contact, str) or "@" not in contact:
        return None
    return contact.rsplit("@", 1)[1].strip().lower() or None


#: Metadata API full names of standard profiles -> the label users see (User.Profile.Name).
#: Custom profiles use their URL-encoded label as full name ("Custom%3A Admin").
STANDARD_PROFILE_LABELS: dict[str, str] = {
    "Admin": "System Administrator",
    "Standard": "Standard User",
    "ReadOnly": "Read Only",
    "SolutionManager": "Solution Manager",
    "MarketingProfile": "Marketing User",
    "ContractManager": "Contract Manager",
    "StandardAul": "Standard Platform User",
}


def profile_label(full_name: str) -> str:
    """``Admin`` -> ``System Administrator``; ``Custom%3A Sales`` -> ``Custom: Sales``."""
    return STANDARD_PROFILE_LABELS.get(full_name, unquote(full_name))


def _org_session(org: Org) -> dict[str, Any]:
    return dict((org.security_settings or {}).get("sessionSettings") or {})


def _org_session_fields(settings: Mapping[str, Any]) -> dict[str, Any]:
    """The org-wide session switches; profile settings inherit them."""
    return {
        "ip_locked": _bool(settings, "lockSessionsToIp"),
        "http_only": _bool(settings, "requireHttpOnly"),
        "force_logout_on_timeout": _bool(settings, "forceLogoutOnSessionTimeout"),
        "enforce_ip_ranges_every_request": _bool(settings, "enforceIpRangesEveryRequest"),
        "lock_sessions_to_domain": _bool(settings, "lockSessionsToDomain"),
    }


def map_session_policies(org: Org) -> Iterator[dict[str, Any]]:
    """The org's session settings as one ``session_policy`` applying to everyone."""
    if org.security_settings is None:
        return
    settings = _org_session(org)
    yield _drop_none(
        {
            "kind": "session_policy",
            "id": "org:session_settings",
            "name": "Org session settings",
            "source_type": "salesforce",
            "type": "org",
            "applies_to": ["everyone"],
            "idle_timeout_minutes": SESSION_TIMEOUTS.get(str(settings.get("sessionTimeout"))),
            **_org_session_fields(settings),
            "raw": {"sessionSettings": settings},
        }
    )


def map_profile_session_policies(org: Org) -> Iterator[dict[str, Any]]:
    """One effective ``session_policy`` per ProfileSessionSetting.

    The profile's timeout, session level and forced logout override the org's;
    everything else (HttpOnly, IP lock, ...) is inherited from the org
    settings, so each policy describes what that profile's users really get.
    """
    inherited = _org_session_fields(_org_session(org))
    for setting in org.profile_sessions:
        profile = profile_label(str(setting.get("profile") or setting.get("fullName") or ""))
        if not profile:
            continue
        level = setting.get("requiredSessionLevel")
        force_logout = _bool(setting, "forceLogout")
        yield _drop_none(
            {
                "kind": "session_policy",
                "id": f"profile:{profile}",
                "name": f"Profile session settings: {profile}",
                "source_type": "salesforce",
                "type": "profile",
                "applies_to": [profile],
                "idle_timeout_minutes": _int(setting.get("sessionTimeout")),
                # A High Assurance session needs MFA at login; STANDARD says nothing
                # either way (org-wide MFA may still apply), so it stays missing.
                "mfa_required": True if level == "HIGH_ASSURANCE" else None,
                "required_session_level": level if isinstance(level, str) else None,
                **inherited,
                "force_logout_on_timeout": (
                    force_logout
                    if force_logout is not None
                    else inherited["force_logout_on_timeout"]
                ),
                "raw": setting,
            }
        )


def _setting(setting_id: str, category: str, value: Any, raw: Mapping[str, Any]) -> dict[str, Any]:
    """A ``setting``; a None value is left out (missing: inconclusive, never a pass)."""
    return _drop_none(
        {
            "kind": "setting",
            "id": setting_id,
            "name": setting_id.split(":", 1)[0],
            "source_type": "salesforce",
            "category": category,
            "value": value,
            "raw": dict(raw),
        }
    )


def map_settings(org: Org) -> Iterator[dict[str, Any]]:
    """Tenant switches: API Access Control, org-wide MFA, Login-As, MFA registration,
    trusted IP ranges and each profile's login IP ranges."""
    cas = org.connected_app_settings
    yield _setting(
        "api_access_control",
        "connected_apps",
        _bool(cas, "enableAdminApprovedAppsOnly") if cas else None,
        cas or {"note": "ConnectedAppSettings could not be read"},
    )
    # No documented API exposes the org-wide "Require MFA for all direct UI
    # logins" switch (catalogue D.3): the setting is reported as missing so a
    # policy on it is inconclusive, never a pass.
    yield _setting(
        "mfa_for_all_users",
        "mfa",
        None,
        {"note": "not exposed by a documented Salesforce API; check Setup manually"},
    )
    security = org.security_settings
    session = _org_session(org)
    unread = {"note": "SecuritySettings could not be read"}
    yield _setting(
        "mfa_registration_verified",
        "mfa",
        _bool(session, "identityConfirmationOnTwoFactorRegistrationEnabled"),
        {
            "sessionSettings.identityConfirmationOnTwoFactorRegistrationEnabled": session.get(
                "identityConfirmationOnTwoFactorRegistrationEnabled"
            )
        }
        if security is not None
        else unread,
    )
    yield _setting(
        "admin_login_as_any_user",
        "privileged",
        _bool(security, "enableAdminLoginAsAnyUser") if security is not None else None,
        {"enableAdminLoginAsAnyUser": security.get("enableAdminLoginAsAnyUser")}
        if security is not None
        else unread,
    )
    if security is not None:
        network = security.get("networkAccess") or {}
        yield _setting(
            "trusted_ip_ranges",
            "network",
            network.get("ipRanges") or [],
            {"networkAccess": security.get("networkAccess")},
        )
    for profile in org.profile_metadata:
        # Metadata full names are URL-encoded ("Custom%3A Admin Clone").
        full_name = str(profile.get("fullName") or "")
        ranges = profile.get("loginIpRanges") or []
        yield _setting(
            f"login_ip_ranges:{unquote(full_name)}",
            "profile",
            ranges,
            {"profile": profile_label(full_name), "full_name": full_name, "loginIpRanges": ranges},
        )
