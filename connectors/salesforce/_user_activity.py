"""What happened to each user: live sessions (``AuthSession``) and "login as" events.

Both are kept on the ``account`` as bounded summaries, never as event streams:

- ``live_sessions``: every open ``AuthSession`` of the user (the object has
  no history: a row is a session that is still valid), with up to
  :data:`MAX_LISTED_SESSIONS` of them described (type, login type, source IP,
  created, security level and the app, when the session's ``LoginHistoryId``
  is an app login of the window).
- ``activity`` login-as keys: ``SetupAuditTrail`` rows whose ``Action`` is a
  Login-As (:data:`LOGIN_AS_ACTIONS`) in the window, counted on the user that
  was impersonated, with who did it and when.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable, Mapping
from typing import Any

from connectors.salesforce._org import Org, id15, norm_name
from connectors.salesforce._time import sf_time

#: at most this many sessions are described per summary (``count`` is exact)
MAX_LISTED_SESSIONS = 20
#: at most this many source IPs are listed per summary
MAX_LISTED_IPS = 20
#: AuthSession types that are API use, not a person in a browser
OAUTH_SESSION_TYPES = frozenset({"Oauth2", "API", "SubstituteUser"})
#: SetupAuditTrail.Action of an admin logging in as a user (org users, Experience Cloud users)
LOGIN_AS_ACTIONS = frozenset({"suOrgAdminLogin", "suNetworkAdminLogin"})


def session_entry(session: Mapping[str, Any], app: str | None) -> dict[str, Any]:
    """One AuthSession as the model describes it (missing values left out)."""
    entry = {
        "user": session.get("UsersId"),
        "app": app,
        "type": session.get("SessionType"),
        "login_type": session.get("LoginType"),
        "source_ip": session.get("SourceIp"),
        "created_at": sf_time(session.get("CreatedDate")),
        "security_level": session.get("SessionSecurityLevel"),
    }
    return {k: v for k, v in entry.items() if isinstance(v, str) and v}


def sessions_summary(rows: list[tuple[Mapping[str, Any], str | None]]) -> dict[str, Any]:
    """``live_sessions`` of a set of (session, app name) rows, newest sessions described first."""
    created = [t for t in (sf_time(s.get("CreatedDate")) for s, _ in rows) if t]
    newest = sorted(rows, key=lambda r: sf_time(r[0].get("CreatedDate")) or "", reverse=True)
    out: dict[str, Any] = {
        "count": len(rows),
        "oauth": sum(1 for s, _ in rows if s.get("SessionType") in OAUTH_SESSION_TYPES),
        "source_ips": sorted({str(s["SourceIp"]) for s, _ in rows if s.get("SourceIp")})[
            :MAX_LISTED_IPS
        ],
        "types": sorted({str(s["SessionType"]) for s, _ in rows if s.get("SessionType")}),
        "users": sorted({str(s["UsersId"]) for s, _ in rows if s.get("UsersId")}),
        "apps": sorted({app for _, app in rows if app}),
        "sessions": [session_entry(s, app) for s, app in newest[:MAX_LISTED_SESSIONS]],
    }
    if created:
        out["last_created_at"] = max(created)
    return out


def app_of_login(logins: Iterable[Mapping[str, Any]]) -> dict[str, str]:
    """LoginHistory id (15 characters) -> the app's name, for successful app logins."""
    apps: dict[str, str] = {}
    for row in logins:
        app = row.get("Application")
        if isinstance(app, str) and app and app != "Browser" and row.get("Status") == "Success":
            apps[id15(row.get("Id"))] = app
    return apps


def account_sessions(org: Org) -> dict[str, dict[str, Any]] | None:
    """Each user's ``live_sessions``; None when AuthSession was not read (missing, not zero)."""
    if not org.activity_days or "AuthSession" not in org.complete:
        return None
    apps = app_of_login(org.login_history) if "LoginHistory" in org.complete else {}
    by_user: dict[str, list[tuple[Mapping[str, Any], str | None]]] = defaultdict(list)
    for session in org.auth_sessions:
        user = session.get("UsersId")
        if isinstance(user, str) and user:
            by_user[id15(user)].append((session, apps.get(id15(session.get("LoginHistoryId")))))
    return {user: sessions_summary(rows) for user, rows in by_user.items()}


def login_as_events(org: Org) -> dict[str, dict[str, Any]] | None:
    """Per impersonated user: ``login_as_events``, ``login_as_by``, ``last_login_as_at``.

    The trail row names the admin through ``DelegateUser`` (a username) or,
    failing that, ``CreatedById``; the user logged in as is the one whose
    username ``Display`` names (else ``CreatedById`` when that is not the
    admin). None when the trail was not read.
    """
    if not org.activity_days or "SetupAuditTrail" not in org.complete:
        return None
    id_of_name = {
        norm_name(str(u["Username"])): str(u["Id"])
        for u in org.users
        if u.get("Username") and u.get("Id")
    }
    found: dict[str, dict[str, Any]] = {}
    for row in org.setup_audit:
        if row.get("Action") not in LOGIN_AS_ACTIONS:
            continue
        creator = str(row.get("CreatedById") or "")
        actor = id_of_name.get(norm_name(str(row.get("DelegateUser") or ""))) or creator
        target = _named_user(str(row.get("Display") or ""), id_of_name, actor)
        if target is None and creator and id15(creator) != id15(actor):
            target = creator
        if target is None:
            continue
        entry = found.setdefault(
            id15(target), {"window_days": org.activity_days, "login_as_events": 0, "by": set()}
        )
        entry["login_as_events"] += 1
        if actor:
            entry["by"].add(actor)
        when = sf_time(row.get("CreatedDate"))
        if when and when > entry.get("last_login_as_at", ""):
            entry["last_login_as_at"] = when
    for entry in found.values():
        entry["login_as_by"] = sorted(entry.pop("by"))
    return found


def _named_user(display: str, id_of_name: Mapping[str, str], actor: str) -> str | None:
    """The user (other than the admin) whose username the Display text names."""
    words = {norm_name(w.strip(".,;:()'\"")) for w in display.split()}
    for word in words:
        user = id_of_name.get(word)
        if user and id15(user) != id15(actor):
            return user
    return None
