"""Connected apps, External Client Apps and OAuth tokens -> ``integration``/``credential``."""

from __future__ import annotations

import hashlib
import re
from collections import defaultdict
from collections.abc import Iterable, Iterator, Mapping
from typing import Any

from connectors.salesforce._activity import Activity, app_changes, app_keys, summarise
from connectors.salesforce._org import Org, bool_field, clean, drop_none, id15, norm_name
from connectors.salesforce._time import sf_time

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


def map_integrations_and_credentials(org: Org) -> Iterator[dict[str, Any]]:
    """Installed connected apps, External Client Apps, apps known only from tokens
    (``uninstalled:<AppName>``), and one credential per token.

    A token belongs to an installed app through its ``AppMenuItemId`` (the App
    Launcher item whose ``ApplicationId`` is the app) or, failing that, by name:
    ``OauthToken.AppName`` is the app's label, compared with the app's Name, its
    menu item's Label and its metadata label, ignoring case.
    """
    tokens_known = "OauthToken" in org.complete
    activity = _org_activity(org)
    audit = org.setup_audit if org.activity_days and "SetupAuditTrail" in org.complete else None
    metadata_by_name: dict[str, dict[str, Any]] = {}
    for md in org.app_metadata:
        for key in (md.get("fullName"), md.get("label")):
            if isinstance(key, str) and key:
                metadata_by_name.setdefault(norm_name(key), md)
    menus_by_app: dict[str, list[dict[str, Any]]] = defaultdict(list)
    for menu in org.menu_items:
        if menu.get("ApplicationId"):
            menus_by_app[id15(menu["ApplicationId"])].append(menu)
    user_ids = {u.get("Id") for u in org.users}

    # Every installed app (connected app or External Client App), with its names.
    installed: list[dict[str, Any]] = []
    by_name: dict[str, dict[str, Any]] = {}
    by_menu: dict[str, dict[str, Any]] = {}
    for app in org.apps:
        menus = menus_by_app.get(id15(app["Id"]), [])
        names = {app.get("Name")} | {m.get("Label") for m in menus} | {m.get("Name") for m in menus}
        keys = {norm_name(n) for n in names if isinstance(n, str) and n}
        md = next((metadata_by_name[k] for k in sorted(keys) if k in metadata_by_name), {})
        if isinstance(md.get("label"), str):
            keys.add(norm_name(md["label"]))
        label = next((m["Label"] for m in menus if m.get("Label")), None) or md.get("label")
        entry = {"kind": "connected_app", "id": app["Id"], "app": app, "md": md, "tokens": []}
        entry["name"] = label or app.get("Name")
        entry["keys"] = keys
        installed.append(entry)
        for key in keys:
            by_name.setdefault(key, entry)
        for menu in menus:
            by_menu[id15(menu.get("Id"))] = entry
    for eca in _external_client_apps(org):
        entry = {"kind": "eca", "id": f"eca:{eca['full_name']}", "eca": eca, "tokens": []}
        entry["keys"] = app_keys((eca["name"], eca["full_name"]))
        installed.append(entry)
        for key in {norm_name(k) for k in (eca["name"], eca["full_name"]) if k}:
            by_name.setdefault(key, entry)

    uninstalled: dict[str, dict[str, Any]] = {}
    owner_of: list[dict[str, Any] | None] = []
    for token in org.tokens:
        name = str(token.get("AppName") or "")
        holder = (
            by_menu.get(id15(token.get("AppMenuItemId"))) if token.get("AppMenuItemId") else None
        )
        holder = holder or by_name.get(norm_name(name))
        if holder is None and name:
            holder = uninstalled.setdefault(
                norm_name(name),
                {
                    "kind": "uninstalled",
                    "id": f"uninstalled:{name}",
                    "name": name,
                    "tokens": [],
                    "keys": app_keys((name,)),
                },
            )
        if holder is not None:
            holder["tokens"].append(token)
        owner_of.append(holder)

    inventory_known = "ConnectedApplication" in org.complete
    for entry in [*installed, *sorted(uninstalled.values(), key=lambda e: e["id"])]:
        if entry["kind"] == "eca":
            resource = _eca_integration(entry["eca"], entry["tokens"], tokens_known, user_ids)
        else:
            listed_app = entry.get("app")
            resource = _integration(
                entry["id"], entry["name"], entry["tokens"], tokens_known,
                entry.get("md") or {}, listed_app, user_ids,
            )  # fmt: skip
            if listed_app is None and not inventory_known:
                resource.pop("installed", None)  # we could not see the installed apps
        entry["scopes"] = resource.get("scopes")
        keys = entry.get("keys") or set()
        resource["activity"] = activity.for_app(keys)
        resource["live_sessions"] = activity.live_sessions(keys)
        resource.update(app_changes(audit, keys, user_ids))
        yield drop_none(resource)

    used: dict[str, int] = defaultdict(int)
    usernames = {u.get("Id"): u.get("Username") for u in org.users}
    for token, holder in zip(org.tokens, owner_of, strict=True):
        base = f"oauth_token:{_token_key(token)}"
        used[base] += 1
        token_id = base if used[base] == 1 else f"{base}-{used[base]}"
        use_count = token.get("UseCount")
        yield drop_none(
            {
                "kind": "credential",
                "id": token_id,
                "name": f"{token.get('AppName')} token of "
                f"{usernames.get(token.get('UserId')) or token.get('UserId')}",
                "type": "oauth_token",
                "enabled": True,  # revoked tokens are deleted: a listed OauthToken is live
                "owner": token.get("UserId"),
                "integration": holder["id"] if holder else None,
                "scopes": holder.get("scopes") if holder else None,
                "created_at": sf_time(token.get("CreatedDate")),
                "last_used_at": sf_time(token.get("LastUsedDate")),
                "use_count": use_count if isinstance(use_count, int) else None,
                "activity": activity.for_token(
                    (holder.get("keys") or set()) if holder else app_keys((token.get("AppName"),)),
                    token.get("UserId"),
                ),
                "raw": clean(token),
            }
        )


def _org_activity(org: Org) -> Activity:
    """The window's logins, sessions and bulk jobs, or nothing known when not read."""
    days = org.activity_days
    logins = org.login_history if days and "LoginHistory" in org.complete else None
    sessions = org.auth_sessions if days and "AuthSession" in org.complete else None
    jobs = org.bulk_jobs if days and "BulkJobs" in org.complete else None
    return summarise(days, logins, sessions, jobs)


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
    return drop_none(
        {
            "kind": "integration",
            "id": integration_id,
            "name": name,
            "type": "connected_app",
            "installed": app is not None,
            # An uninstalled app cannot be set to "admin approved users are
            # pre-authorized": any user may authorise it.
            "admin_approved": bool_field(app, "OptionsAllowAdminApprovedUsersOnly")
            if app
            else False,
            "high_assurance_required": bool_field(app, "OptionsHasSessionLevelPolicy")
            if app
            else None,
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
    policies = {
        norm_name(str(p.get("externalClientApplication") or "")): p for p in org.eca_policies
    }
    settings = {
        norm_name(str(s.get("externalClientApplication") or "")): s for s in org.eca_settings
    }
    for eca in org.ecas:
        full_name = str(eca.get("fullName") or "")
        key = norm_name(full_name)
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
    return drop_none(
        {
            "kind": "integration",
            "id": f"eca:{eca['full_name']}",
            "name": eca["name"],
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
