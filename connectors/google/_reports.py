"""Reports API audit events, summarised per OAuth client and per user over a bounded window.

The Directory API's token listing carries no dates, so "granted recently" comes from the
OAuth token audit log (``activities.list``, ``applicationName=token``, event
``authorize``: parameters ``client_id``, ``app_name``, ``scope``), and which second
factors a user really signs in with from the login audit log (``applicationName=login``,
event ``login_success``, multi-valued parameter ``login_challenge_method``). Events are
read once, ``startTime`` .. ``endTime`` (the run's timestamp), ``maxResults`` 1000, and
only counts, first/last times and the set of methods are kept: memory grows with clients
and users, never with events.
"""

from __future__ import annotations

import datetime as dt
from collections import defaultdict
from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass, field
from typing import Any

from policyengine.model.timestamps import format_timestamp, parse_timestamp, to_timestamp

REPORTS = "/admin/reports/v1/activity/users/all/applications"
#: (applicationName, eventName) pairs read
GRANTS = ("token", "authorize")
LOGINS = ("login", "login_success")


def window(collected_at: str, days: int) -> tuple[str, str]:
    """``startTime`` and ``endTime`` (RFC 3339) for ``days`` before the run's timestamp."""
    end = parse_timestamp(collected_at)
    start = end - dt.timedelta(days=days)
    return format_timestamp(start), format_timestamp(end)


def parameter(event: Mapping[str, Any], name: str) -> list[str]:
    """A parameter's values as strings (``value``, ``multiValue``, ``intValue``, ``boolValue``)."""
    for item in event.get("parameters") or []:
        if not isinstance(item, dict) or item.get("name") != name:
            continue
        if isinstance(item.get("multiValue"), list):
            return [str(v) for v in item["multiValue"]]
        for key in ("value", "intValue", "boolValue"):
            if key in item:
                return [str(item[key])]
    return []


def events(activities: Iterable[Mapping[str, Any]], name: str) -> Iterator[tuple[Any, Any]]:
    """``(activity, event)`` for each event called ``name``, with the activity's time."""
    for activity in activities:
        for event in activity.get("events") or []:
            if isinstance(event, dict) and event.get("name") == name:
                yield activity, event


def _time(activity: Mapping[str, Any]) -> str | None:
    value = (activity.get("id") or {}).get("time")
    return to_timestamp(value) if isinstance(value, str) else None


@dataclass
class Tally:
    """Count and first/last time of one kind of event, plus the values seen."""

    count: int = 0
    first: str | None = None
    last: str | None = None
    values: set[str] = field(default_factory=set)

    def add(self, when: str | None, values: Iterable[str] = ()) -> None:
        self.count += 1
        self.values.update(values)
        if when:
            self.first = when if self.first is None else min(self.first, when)
            self.last = when if self.last is None else max(self.last, when)


@dataclass
class Activity:
    """What the window showed; ``None`` tallies mean that log could not be read."""

    days: int
    grants: dict[str, Tally] | None = None
    logins: dict[str, Tally] | None = None

    def add_grants(self, activities: Iterable[Mapping[str, Any]]) -> None:
        grants = self.grants if self.grants is not None else defaultdict(Tally)
        for activity, event in events(activities, GRANTS[1]):
            for client_id in parameter(event, "client_id"):
                grants[client_id].add(_time(activity))
        self.grants = grants

    def add_logins(self, activities: Iterable[Mapping[str, Any]]) -> None:
        logins = self.logins if self.logins is not None else defaultdict(Tally)
        for activity, event in events(activities, LOGINS[1]):
            user = (activity.get("actor") or {}).get("profileId")
            if user:
                logins[str(user)].add(_time(activity), parameter(event, "login_challenge_method"))
        self.logins = logins

    def for_client(self, client_id: str) -> dict[str, Any] | None:
        """``activity`` of one integration: grants in the window, first and last."""
        if self.grants is None:
            return None
        tally = self.grants.get(client_id) or Tally()
        return _summary(self.days, tally, "grants")

    def for_user(self, user_id: str) -> dict[str, Any] | None:
        """``activity`` of one account: logins in the window and the challenge methods."""
        if self.logins is None:
            return None
        tally = self.logins.get(user_id) or Tally()
        summary = _summary(self.days, tally, "logins")
        summary["challenge_methods"] = sorted(tally.values)
        return summary


def _summary(days: int, tally: Tally, count_key: str) -> dict[str, Any]:
    summary: dict[str, Any] = {"window_days": days, count_key: tally.count}
    if tally.first:
        summary["first_seen_at"] = tally.first
    if tally.last:
        summary["last_seen_at"] = tally.last
    return summary
