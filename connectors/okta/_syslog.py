"""The System Log, summarised: bounded facts on accounts and apps, never the events.

One bounded query (``since`` = now - ``days``, ``until`` = now: without ``until`` Okta
treats the query as polling and always sends a next link) for three kinds of event,
in one ``filter`` so they share one page walk:

- ``user.session.start``: an account's sign-ins (``outcome.result`` SUCCESS or
  FAILURE, ``client.ipAddress``) become ``account.activity`` (logins, failed_logins,
  distinct_ips, source_ips, new_ips, first/last_seen_at);
- ``app.oauth2.as.consent.grant``: a user's consent to an app (the target of type
  ``AppInstance``) becomes ``integration.activity.grants`` and ``users``;
- ``application.lifecycle.*`` (create, update, activate, deactivate, delete): an
  admin's change to an app becomes ``integration.last_changed_at`` and ``changed_by``.

Pages of 1,000 (the documented maximum) up to ``max_pages``; a window with more events
than that is cut short and reported (``okta: system log ...``), since a partial
count must not read as a quiet app.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any

from connectors.http import HttpClient, link_pages
from policyengine.log import get_logger

log = get_logger("policyengine.okta")

SESSION_START = "user.session.start"
CONSENT_GRANT = "app.oauth2.as.consent.grant"
APP_LIFECYCLE = "application.lifecycle."
FILTER = (
    f'eventType eq "{SESSION_START}" or eventType eq "{CONSENT_GRANT}" '
    f'or eventType sw "{APP_LIFECYCLE}"'
)
PAGE = 1000
#: source IPs kept per account (the count is exact; the list is a sample)
MAX_IPS = 20
#: an IP first seen within this many days, after sign-ins from other IPs, is "new"
NEW_IP_DAYS = 7


@dataclass(slots=True)
class _Seen:
    first: str = ""
    last: str = ""

    def add(self, when: str) -> None:
        self.first = min(self.first, when) if self.first else when
        self.last = max(self.last, when)


@dataclass(slots=True)
class _Account:
    logins: int = 0
    failed: int = 0
    ips: dict[str, str] = field(default_factory=dict)  # ip -> first seen
    seen: _Seen = field(default_factory=_Seen)


@dataclass(slots=True)
class _App:
    grants: int = 0
    users: set[str] = field(default_factory=set)
    seen: _Seen = field(default_factory=_Seen)
    changed: str = ""
    changed_by: set[str] = field(default_factory=set)


@dataclass(slots=True)
class LogFacts:
    """What the window says, keyed by account id and app id."""

    days: int
    until: str
    accounts: dict[str, _Account] = field(default_factory=dict)
    apps: dict[str, _App] = field(default_factory=dict)
    events: int = 0
    pages: int = 0
    truncated: bool = False

    def add(self, event: Mapping[str, Any]) -> None:
        kind = str(event.get("eventType") or "")
        when = _canonical(event.get("published"))
        actor = event.get("actor") or {}
        if not when:
            return
        self.events += 1
        if kind == SESSION_START and actor.get("type") == "User" and actor.get("id"):
            account = self.accounts.setdefault(str(actor["id"]), _Account())
            result = (event.get("outcome") or {}).get("result")
            if result == "SUCCESS":
                account.logins += 1
            elif result == "FAILURE":
                account.failed += 1
            ip = (event.get("client") or {}).get("ipAddress")
            if ip and result == "SUCCESS":
                account.ips[str(ip)] = min(account.ips.get(str(ip), when), when)
            account.seen.add(when)
            return
        for app_id in _app_targets(event.get("target")):
            app = self.apps.setdefault(app_id, _App())
            if kind == CONSENT_GRANT:
                app.grants += 1
                app.seen.add(when)
                if actor.get("id"):
                    app.users.add(str(actor["id"]))
            elif kind.startswith(APP_LIFECYCLE):
                app.changed = max(app.changed, when)
                if actor.get("type") == "User" and actor.get("id"):
                    app.changed_by.add(str(actor["id"]))

    def account_activity(self, uid: str) -> dict[str, Any]:
        """``account.activity`` for one user: zero counts when the window saw nothing."""
        a = self.accounts.get(uid, _Account())
        out: dict[str, Any] = {
            "window_days": self.days,
            "logins": a.logins,
            "failed_logins": a.failed,
            "distinct_ips": len(a.ips),
            "source_ips": sorted(a.ips)[:MAX_IPS],
            "new_ips": self._new_ips(a),
        }
        if a.seen.first:
            out["first_seen_at"], out["last_seen_at"] = a.seen.first, a.seen.last
        return out

    def _new_ips(self, account: _Account) -> list[str]:
        cutoff = _shift(self.until, days=-NEW_IP_DAYS)
        recent = sorted(ip for ip, first in account.ips.items() if first >= cutoff)
        older = [ip for ip, first in account.ips.items() if first < cutoff]
        return recent[:MAX_IPS] if older else []

    def app_facts(self, app_id: str) -> dict[str, Any]:
        """``activity`` (consents in the window) and, if any, the latest admin change."""
        a = self.apps.get(app_id, _App())
        activity: dict[str, Any] = {
            "window_days": self.days,
            "grants": a.grants,
            "users": sorted(a.users),
        }
        if a.seen.first:
            activity["first_seen_at"], activity["last_seen_at"] = a.seen.first, a.seen.last
        out: dict[str, Any] = {"activity": activity}
        if a.changed:
            out["last_changed_at"] = a.changed
            out["changed_by"] = sorted(a.changed_by)
        return out


def read_system_log(client: HttpClient, *, days: int, now: dt.datetime, max_pages: int) -> LogFacts:
    """Walk the window's pages (at most ``max_pages``) into :class:`LogFacts`."""
    until = now.astimezone(dt.UTC).replace(microsecond=0)
    since = until - dt.timedelta(days=days)
    facts = LogFacts(days=days, until=_iso(until))
    params = {
        "since": _iso(since),
        "until": _iso(until),
        "filter": FILTER,
        "limit": PAGE,
        "sortOrder": "ASCENDING",
    }
    for page in link_pages(client, "/api/v1/logs", params=params, max_pages=max_pages + 1):
        if facts.pages == max_pages:
            facts.truncated = True
            break
        facts.pages += 1
        for event in page:
            if isinstance(event, dict):
                facts.add(event)
    log.info(
        "okta.system_log",
        days=days,
        pages=facts.pages,
        events=facts.events,
        truncated=facts.truncated,
    )
    return facts


def _app_targets(targets: Any) -> Iterable[str]:
    if not isinstance(targets, list):
        return ()
    return [str(t["id"]) for t in targets if isinstance(t, dict) and t.get("type") == "AppInstance"]


def _iso(when: dt.datetime) -> str:
    return when.strftime("%Y-%m-%dT%H:%M:%SZ")


def _shift(iso: str, *, days: int) -> str:
    return _iso(dt.datetime.fromisoformat(iso.replace("Z", "+00:00")) + dt.timedelta(days=days))


def _canonical(value: Any) -> str:
    """Okta's ``2026-10-20T10:00:00.000Z`` as ``2026-10-20T10:00:00Z`` (sortable)."""
    if not isinstance(value, str):
        return ""
    try:
        parsed = dt.datetime.fromisoformat(value.replace("Z", "+00:00"))
    except ValueError:
        return ""
    return _iso(parsed.astimezone(dt.UTC))
