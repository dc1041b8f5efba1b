"""What apps and their tokens *did*: logins, live sessions and Bulk API exports.

Read over a bounded window (``activity_days``) and kept as summaries on the
integration and credential they belong to, never as event streams:

- ``LoginHistory`` rows name the app in ``Application`` (the connected app's
  label for an OAuth login); a row counts for the app of that name and for
  the token of (app, ``UserId``).
- ``AuthSession`` rows reach their app through ``LoginHistoryId``.
- Bulk API query jobs (``GET /jobs/query``) name only their creator
  (``createdById``): a job is attributed to the app of its creator's latest
  OAuth login at or before the job was created, inside the window. A job no
  login explains stays unattributed (logged).
"""

from __future__ import annotations

import datetime as dt
from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any

from connectors.http import ServerUnreachable
from connectors.salesforce._http import ApiLimitExceeded, Rest
from connectors.salesforce._org import norm_name
from connectors.salesforce._queries import ObjectQuery
from connectors.salesforce._time import sf_time
from connectors.salesforce._user_activity import sessions_summary
from policyengine.errors import AuthenticationError, ConnectorError
from policyengine.log import get_logger
from policyengine.model.timestamps import format_timestamp

log = get_logger("policyengine.salesforce")

#: at most this many job-info calls per run (one API call each)
MAX_JOB_INFOS = 500
#: at most this many source IPs are listed per summary (the count is exact)
MAX_LISTED_IPS = 20
#: job list pages followed before stopping (the list covers the org's recent jobs)
MAX_JOB_PAGES = 200


def window_start(days: int, now: dt.datetime | None = None) -> str:
    """The window's first instant as a SOQL datetime literal (UTC, ``Z``)."""
    start = (now or dt.datetime.now(dt.UTC)) - dt.timedelta(days=days)
    return format_timestamp(start.replace(microsecond=0))


def activity_queries(since: str) -> tuple[ObjectQuery, ...]:
    """LoginHistory and AuthSession since ``since``; auxiliary: a failure leaves activity missing."""
    return (
        ObjectQuery(
            "LoginHistory",
            (
                "Id",
                "UserId",
                "LoginTime",
                "LoginType",
                "SourceIp",
                "Status",
                "Application",
                "ApiType",
            ),
            optional=("ApiType",),
            auxiliary=True,
            where=f" WHERE LoginTime >= {since}",
        ),
        ObjectQuery(
            "AuthSession",
            (
                "Id",
                "UsersId",
                "SessionType",
                "LoginType",
                "SourceIp",
                "CreatedDate",
                "SessionSecurityLevel",
                "LoginHistoryId",
            ),
            optional=("LoginHistoryId", "SessionSecurityLevel"),
            auxiliary=True,
        ),
        ObjectQuery(
            "SetupAuditTrail",
            ("Id", "Action", "Section", "CreatedDate", "CreatedById", "DelegateUser", "Display"),
            optional=("DelegateUser",),
            auxiliary=True,
            where=f" WHERE CreatedDate >= {since}",
        ),
    )


def read_bulk_jobs(rest: Rest, since: str) -> list[dict[str, Any]]:
    """Bulk API query jobs created since ``since``, each with its record count.

    Bulk API 2.0 jobs (``jobType`` V2Query) get ``numberRecordsProcessed``
    from their own info call; Bulk API 1.0 (``Classic``) jobs from the
    async API's job info (:func:`_classic_job_info`).
    """
    base = f"/services/data/v{rest.api_version}/jobs/query"
    jobs: list[dict[str, Any]] = []
    path: str | None = base
    seen: set[str] = set()
    for _ in range(MAX_JOB_PAGES):
        if path is None:
            break
        _, page = rest.http.fetch_json("GET", path)
        if not isinstance(page, dict) or not isinstance(page.get("records"), list):
            raise ConnectorError(f"unexpected response from {base}: no 'records' list")
        jobs.extend(j for j in page["records"] if isinstance(j, dict))
        next_url = page.get("nextRecordsUrl")
        if page.get("done", True) or not next_url:
            path = None
        elif not isinstance(next_url, str) or not next_url.startswith(base) or next_url in seen:
            raise ConnectorError(f"unexpected nextRecordsUrl {str(next_url)[:120]!r} from {base}")
        else:
            seen.add(next_url)
            path = next_url
    else:
        raise ConnectorError(f"{base} returned more than {MAX_JOB_PAGES} pages; stopping")
    recent = [
        j
        for j in jobs
        if j.get("operation") in ("query", "queryAll")
        and (sf_time(j.get("createdDate")) or "") >= since
    ]
    for job in recent[:MAX_JOB_INFOS]:
        if not isinstance(job.get("id"), str):
            continue
        if job.get("jobType") == "V2Query":
            _, info = rest.http.fetch_json("GET", f"{base}/{job['id']}")
            if isinstance(info, dict):
                job.update(info)
        elif job.get("jobType") == "Classic":
            job.update(_classic_job_info(rest, job["id"]))
    if len(recent) > MAX_JOB_INFOS:
        log.warning("salesforce.bulk_jobs_truncated", jobs=len(recent), read=MAX_JOB_INFOS)
    return recent


def _classic_job_info(rest: Rest, job_id: str) -> dict[str, Any]:
    """A Bulk API 1.0 job's counters from ``GET /services/async/XX.X/job/<id>`` (JSON).

    Bulk API 1.0 has no job list of its own; the 2.0 list names these jobs
    (``jobType`` Classic). It authenticates by ``X-SFDC-Session`` (the OAuth
    access token) and answers JSON when asked with ``Content-Type:
    application/json``. A job whose info cannot be read keeps no record count
    (logged): its records are missing from ``records_exported``, not zero.
    """
    assert rest.http.auth is not None
    session = rest.http.auth.header().removeprefix("Bearer ")
    path = f"/services/async/{rest.api_version}/job/{job_id}"
    headers = {"X-SFDC-Session": session, "Content-Type": "application/json"}
    try:
        _, info = rest.http.fetch_json("GET", path, headers=headers)
    except (AuthenticationError, ApiLimitExceeded, ServerUnreachable):
        raise
    except ConnectorError as exc:
        log.warning("salesforce.classic_job_unreadable", job=job_id, error=str(exc))
        return {}
    if not isinstance(info, dict):
        return {}
    return {k: info[k] for k in CLASSIC_JOB_FIELDS if k in info}


#: JobInfo fields kept from a Bulk API 1.0 job (the list already gives the rest)
CLASSIC_JOB_FIELDS = ("numberRecordsProcessed", "numberRecordsFailed", "state", "apiVersion")


@dataclass(slots=True)
class _Tally:
    """One summary being built."""

    logins: int = 0
    failed: int = 0
    ips: set[str] = field(default_factory=set)
    users: set[str] = field(default_factory=set)
    times: list[str] = field(default_factory=list)
    jobs: int = 0
    records: int = 0
    objects: set[str] = field(default_factory=set)

    def summary(self, days: int, *, bulk_known: bool) -> dict[str, Any]:
        out: dict[str, Any] = {
            "window_days": days,
            "logins": self.logins,
            "failed_logins": self.failed,
            "distinct_ips": len(self.ips),
            "source_ips": sorted(self.ips)[:MAX_LISTED_IPS],
            "users": sorted(self.users),
        }
        if self.times:
            out["first_seen_at"], out["last_seen_at"] = min(self.times), max(self.times)
        if bulk_known:  # else missing, not zero
            out.update(
                bulk_jobs=self.jobs,
                records_exported=self.records,
                objects_exported=sorted(self.objects),
            )
        return out


@dataclass(slots=True)
class Activity:
    """Activity of one org over the window, keyed by app name (normalised) and user."""

    days: int
    logins_known: bool
    bulk_known: bool
    by_app: dict[str, _Tally] = field(default_factory=lambda: defaultdict(_Tally))
    by_token: dict[tuple[str, str], _Tally] = field(default_factory=lambda: defaultdict(_Tally))
    sessions: dict[str, list[dict[str, Any]]] = field(default_factory=lambda: defaultdict(list))
    sessions_known: bool = False

    def for_app(self, names: Iterable[str]) -> dict[str, Any] | None:
        if not self.logins_known:
            return None
        merged = _Tally()
        for name in set(names):
            _merge(merged, self.by_app.get(name))
        return merged.summary(self.days, bulk_known=self.bulk_known)

    def for_token(self, names: Iterable[str], user: str | None) -> dict[str, Any] | None:
        if not self.logins_known or not user:
            return None
        merged = _Tally()
        for name in set(names):
            _merge(merged, self.by_token.get((name, user)))
        return merged.summary(self.days, bulk_known=self.bulk_known)

    def live_sessions(self, names: Iterable[str]) -> dict[str, Any] | None:
        if not self.sessions_known:
            return None
        rows = [s for name in set(names) for s in self.sessions.get(name, [])]
        out = sessions_summary([(s, None) for s in rows])
        del out["apps"]  # the integration is the app
        return out


def _merge(into: _Tally, other: _Tally | None) -> None:
    if other is None:
        return
    into.logins += other.logins
    into.failed += other.failed
    into.ips |= other.ips
    into.users |= other.users
    into.times += other.times
    into.jobs += other.jobs
    into.records += other.records
    into.objects |= other.objects


def summarise(
    days: int,
    logins: list[dict[str, Any]] | None,
    sessions: list[dict[str, Any]] | None,
    jobs: list[dict[str, Any]] | None,
) -> Activity:
    """Fold the window's rows into per-app and per-token tallies (None: not read)."""
    activity = Activity(days, logins_known=logins is not None, bulk_known=jobs is not None)
    app_logins: dict[str, list[tuple[str, str]]] = defaultdict(list)  # user -> (time, app)
    app_of_login: dict[str, str] = {}
    for row in logins or []:
        app, user = row.get("Application"), row.get("UserId")
        if not isinstance(app, str) or not app or app == "Browser":
            continue
        key = norm_name(app)
        when = sf_time(row.get("LoginTime"))
        ok = row.get("Status") == "Success"
        for tally in (activity.by_app[key], activity.by_token[(key, str(user))]):
            tally.logins += ok
            tally.failed += not ok
            if row.get("SourceIp"):
                tally.ips.add(str(row["SourceIp"]))
            if user:
                tally.users.add(str(user))
            if when:
                tally.times.append(when)
        if ok and isinstance(row.get("Id"), str):
            app_of_login[row["Id"][:15]] = key
            if user and when:
                app_logins[str(user)].append((when, key))
    if sessions is not None:
        activity.sessions_known = activity.logins_known
        for session in sessions:
            login_id = str(session.get("LoginHistoryId") or "")[:15]
            if login_id in app_of_login:
                activity.sessions[app_of_login[login_id]].append(session)
    for job in jobs or []:
        user, when = job.get("createdById"), sf_time(job.get("createdDate"))
        app = _app_at(app_logins.get(str(user), []), when)
        if app is None:
            log.info("salesforce.bulk_job_unattributed", job=job.get("id"), user=user)
            continue
        records = job.get("numberRecordsProcessed")
        for tally in (activity.by_app[app], activity.by_token[(app, str(user))]):
            tally.jobs += 1
            tally.records += records if isinstance(records, int) else 0
            if isinstance(job.get("object"), str):
                tally.objects.add(job["object"])
    return activity


def app_changes(
    audit: list[dict[str, Any]] | None, names: Iterable[str], user_ids: set[Any]
) -> dict[str, Any]:
    """``last_changed_at`` and ``changed_by`` of an app from the Setup Audit Trail.

    A row is about the app when its Section is about connected apps and its
    Display names the app (the trail has no app id). None read: nothing known.
    """
    if audit is None:
        return {}
    keys = [k for k in set(names) if k]
    rows = [
        r
        for r in audit
        if "connected app" in str(r.get("Section") or "").casefold()
        and any(k in norm_name(str(r.get("Display") or "")) for k in keys)
    ]
    times = [t for t in (sf_time(r.get("CreatedDate")) for r in rows) if t]
    return {
        "last_changed_at": max(times) if times else None,
        "changed_by": sorted({r["CreatedById"] for r in rows if r.get("CreatedById") in user_ids}),
    }


def _app_at(logins: list[tuple[str, str]], when: str | None) -> str | None:
    """The app of the latest login at or before ``when``."""
    if when is None:
        return None
    before = [login for login in logins if login[0] <= when]
    return max(before)[1] if before else None


def empty_activity() -> Activity:
    """Activity that was not read: every summary stays missing."""
    return Activity(0, logins_known=False, bulk_known=False)


def app_keys(names: Iterable[Any]) -> set[str]:
    return {norm_name(n) for n in names if isinstance(n, str) and n}
