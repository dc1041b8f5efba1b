"""Benchmark: collect a large Salesforce org from the local emulator, with and without activity.

20,000 users (each with an assignment, MFA row and UserLogin), 200 connected apps, 5,000
OAuth tokens, ``--logins`` LoginHistory rows over the 30-day window (default 100,000:
80 % OAuth logins of the apps' token holders), 2,000 live AuthSessions, 300 Setup Audit
Trail rows (a tenth of them Login-As) and 500 Bulk API query jobs (a fifth Bulk API 1.0).
The emulator runs in its own process; each collection runs in a fresh process so its peak
RSS is its own. Two runs in one go: ``--activity-days 0`` (the baseline: no LoginHistory,
AuthSession, SetupAuditTrail or job list) and ``--activity-days 30``.

    .venv/bin/python bench/salesforce_collect.py
    .venv/bin/python bench/salesforce_collect.py --users 2000 --logins 10000
"""

from __future__ import annotations

import argparse
import multiprocessing as mp
import resource
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

CLIENT_ID, CLIENT_SECRET = "3MVG9bench.consumer.key", "bench-secret"


def _sid(prefix: str, n: int) -> str:
    """An 18-character Salesforce-looking id."""
    return f"{prefix}{n:012d}AAA"[:18].ljust(18, "A")


def generate(args: argparse.Namespace) -> dict[str, Any]:
    import copy
    import datetime as dt

    from tests.emulators.salesforce import load_fixture

    fixture = load_fixture()
    objects = fixture["objects"]
    anchor = dt.datetime.strptime(fixture["recent_anchor"][:19], "%Y-%m-%dT%H:%M:%S")

    def when(minutes_back: int) -> str:
        return (anchor - dt.timedelta(minutes=minutes_back)).strftime("%Y-%m-%dT%H:%M:%S.000+0000")

    template_user = next(u for u in objects["User"] if u["Username"].startswith("erin"))
    users = []
    for n in range(args.users):
        user = copy.deepcopy(template_user)
        user.update(Id=_sid("005", n), Username=f"user{n:05d}@bench.example",
                    Email=f"user{n:05d}@bench.example", Name=f"User {n}",
                    EmployeeNumber=f"B{n:05d}")  # fmt: skip
        users.append(user)
    objects["User"] += users
    ps = objects["PermissionSet"][-1]["Id"]
    objects["PermissionSetAssignment"] += [
        {"Id": _sid("0Pa", n), "AssigneeId": u["Id"], "PermissionSetId": ps,
         "PermissionSetGroupId": None, "IsActive": True, "ExpirationDate": None,
         "SystemModstamp": "2024-01-01T00:00:00.000+0000"}
        for n, u in enumerate(users)
    ]  # fmt: skip
    mfa = objects["TwoFactorMethodsInfo"][0]
    objects["TwoFactorMethodsInfo"] += [
        {**mfa, "UserId": u["Id"], "ExternalId": str(n)} for n, u in enumerate(users)
    ]
    objects["UserLogin"] += [
        {"Id": _sid("06c", n), "UserId": u["Id"], "IsFrozen": False, "IsPasswordLocked": False}
        for n, u in enumerate(users)
    ]
    app_template = objects["ConnectedApplication"][-1]
    apps = [
        {**app_template, "Id": _sid("0H4", n), "Name": f"Bench App {n:03d}"}
        for n in range(args.apps)
    ]
    objects["ConnectedApplication"] += apps
    token_template = objects["OauthToken"][-1]
    holders = [(users[(t * 7) % len(users)], apps[t % len(apps)]) for t in range(args.tokens)]
    objects["OauthToken"] += [
        {**token_template, "AppName": app["Name"], "AppMenuItemId": None, "UserId": user["Id"],
         "CreatedDate": when(60 * 24 * 200 + t), "LastUsedDate": when(t % 40000), "UseCount": t}
        for t, (user, app) in enumerate(holders)
    ]  # fmt: skip
    window = 60 * 24 * 29  # minutes: every row inside a 30-day window
    logins = []
    for n in range(args.logins):
        user, app = holders[n % len(holders)]
        oauth = n % 5 != 0
        logins.append(
            {"Id": _sid("0Ya", n), "UserId": user["Id"], "LoginTime": when(n * window // args.logins),
             "LoginType": "Remote Access 2.0" if oauth else "Application",
             "SourceIp": f"198.51.{n % 200}.{n % 250}",
             "Status": "Success" if n % 50 else "Failed: Invalid Password",
             "Application": app["Name"] if oauth else "Browser",
             "ApiType": "REST API" if oauth else None}
        )  # fmt: skip
    objects["LoginHistory"] += logins
    objects["AuthSession"] += [
        {"Id": _sid("0Ak", n), "UsersId": logins[n * 37 % len(logins)]["UserId"],
         "SessionType": "Oauth2" if n % 3 else "UI", "LoginType": "Remote Access 2.0",
         "SourceIp": "198.51.100.7", "CreatedDate": when(n), "LastModifiedDate": when(n),
         "SessionSecurityLevel": "STANDARD", "LoginHistoryId": logins[n * 37 % len(logins)]["Id"],
         "NumSecondsValid": 7200}
        for n in range(args.sessions)
    ]  # fmt: skip
    objects["SetupAuditTrail"] += [
        {"Id": _sid("0Ym", n), "Action": "suOrgAdminLogin" if n % 10 == 0 else "PermSetAssign",
         "Section": "Manage Users", "CreatedDate": when(n * 90), "CreatedById": users[0]["Id"],
         "DelegateUser": None, "Display": f"Logged in as {users[n + 1]['Username']}"}
        for n in range(args.audit)
    ]  # fmt: skip
    job_template = fixture["bulk_jobs"][0]
    fixture["bulk_jobs"] += [
        {**job_template, "id": _sid("750", n), "createdById": holders[n][0]["Id"],
         "createdDate": logins[n % len(logins)]["LoginTime"], "object": "Contact",
         "jobType": "Classic" if n % 5 == 0 else "V2Query", "numberRecordsProcessed": n * 10}
        for n in range(args.jobs)
    ]  # fmt: skip
    return fixture


def serve(conn: Any, args: argparse.Namespace) -> None:
    from tests.emulators._server import EmulatorServer
    from tests.emulators.salesforce import SalesforceOrg

    org = SalesforceOrg(
        generate(args), client_id=CLIENT_ID, client_secret=CLIENT_SECRET,
        jobs_page_size=args.jobs_page_size, api_limit=10**9,
    )  # fmt: skip
    with EmulatorServer(org, log_limit=0) as server:
        org.base_url = server.base_url
        conn.send(server.base_url)
        while conn.recv() == "count":
            conn.send(server.request_count)


def collect(conn: Any, base_url: str, days: int) -> None:
    import os

    from connectors.salesforce import SalesforceConnector
    from policyengine.log import configure
    from policyengine.snapshot.writer import SnapshotWriter

    configure("json", "warning", stream=sys.stderr)
    os.environ["SF_BENCH_SECRET"] = CLIENT_SECRET
    with tempfile.TemporaryDirectory() as tmp:
        out = Path(tmp) / "sf.jsonl"
        connector = SalesforceConnector.from_options(
            {"login_url": base_url, "client_id": CLIENT_ID,
             "client_secret_env": "SF_BENCH_SECRET", "activity_days": days},
            instance="bench",
        )  # fmt: skip
        t0 = time.monotonic()
        with SnapshotWriter(out, connector="salesforce", instance="bench") as result:
            connector.collect(result)
        wall = time.monotonic() - t0
    peak_mb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    conn.send({"wall": wall, "peak_mb": peak_mb, "complete": result.complete,
               "errors": list(result.errors)[:3], "counts": dict(result.counts)})  # fmt: skip


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--users", type=int, default=20000)
    parser.add_argument("--apps", type=int, default=200)
    parser.add_argument("--tokens", type=int, default=5000)
    parser.add_argument("--logins", type=int, default=100000)
    parser.add_argument("--sessions", type=int, default=2000)
    parser.add_argument("--audit", type=int, default=300)
    parser.add_argument("--jobs", type=int, default=500)
    parser.add_argument("--jobs-page-size", type=int, default=100)
    args = parser.parse_args()

    spawn = mp.get_context("spawn")
    parent, child = spawn.Pipe()
    server = spawn.Process(target=serve, args=(child, args), daemon=True)
    server.start()
    base_url = parent.recv()
    rows = []
    for days in (0, 30):
        parent.send("count")
        before = parent.recv()
        mine, theirs = spawn.Pipe()
        proc = spawn.Process(target=collect, args=(theirs, base_url, days))
        proc.start()
        stats = mine.recv()
        proc.join()
        parent.send("count")
        stats["requests"] = parent.recv() - before
        rows.append((days, stats))
    parent.send("stop")
    server.join(timeout=10)
    print(f"org: {args.users:,} users, {args.apps} apps, {args.tokens:,} tokens, "
          f"{args.logins:,} logins, {args.sessions:,} sessions, {args.jobs} bulk jobs")  # fmt: skip
    print("| activity_days | wall s | requests | peak RSS MB | complete |")
    print("|---|---|---|---|---|")
    for days, s in rows:
        print(f"| {days} | {s['wall']:.1f} | {s['requests']:,} | {s['peak_mb']:.0f} | "
              f"{s['complete']} {s['errors']} |")  # fmt: skip
    return 0 if all(s["complete"] for _, s in rows) else 3


if __name__ == "__main__":
    raise SystemExit(main())
