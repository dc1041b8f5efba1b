"""Benchmark: collect N Okta users with their factors from the local emulator.

The emulator runs in its own process (so the two do not share one GIL) and
enforces a per-window rate limit on ``/api/v1/users/{id}/*``, advertised in
``X-Rate-Limit-*`` headers; the connector must pace itself on them. Prints
wall time, request counts and how many 429s the emulator had to send.

    .venv/bin/python bench/okta_collect.py                       # 50,000 users
    .venv/bin/python bench/okta_collect.py --users 5000 --rate-limit 0   # no limit
    .venv/bin/python bench/okta_collect.py --users 20000 --apps 200 --log-events 50000 --all
        # plus apps (OIDC, SAML: grants, secrets, assignments), --user-grants,
        # --refresh-tokens and --log-days 30 over 50,000 System Log events
"""

from __future__ import annotations

import argparse
import multiprocessing as mp
import os
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

TOKEN = "00bench-ssws-token-0123456789abcdef"


def serve(conn, users: int, rate_limit: int, window: int, apps: int, log_events: int) -> None:
    """Child process: build the org in memory, serve it, report counts when told to stop."""
    from tests.emulators._server import EmulatorServer
    from tests.emulators.okta import OktaEmulator, OktaOrg

    org = OktaOrg.generate(users, apps=apps, log_events=log_events)
    limits = {"/api/v1/users/{id}": rate_limit} if rate_limit else {}
    emulator = OktaEmulator(
        org, ssws_tokens={TOKEN}, rate_limit=10**9, rate_limits=limits, window=window
    )
    if not rate_limit:
        emulator.limiter.limits = {}
    with EmulatorServer(emulator, log_limit=0) as server:
        emulator.base_url = server.base_url
        conn.send(server.base_url)
        conn.recv()
        conn.send(
            {
                "requests": server.request_count,
                "rejected_429": emulator.limiter.rejected,
                "factor_users": len(org.factors),
                "by_route": dict(sorted(emulator.route_counts.items(), key=lambda kv: -kv[1])),
            }
        )


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--users", type=int, default=50_000)
    parser.add_argument(
        "--rate-limit",
        type=int,
        default=30_000,
        help="requests per window for /api/v1/users/{id}/* (0: unlimited)",
    )
    parser.add_argument("--window", type=int, default=60, help="rate-limit window in seconds")
    parser.add_argument("--max-concurrency", type=int, default=8)
    parser.add_argument("--page-size", type=int, default=200)
    parser.add_argument("--apps", type=int, default=0, help="apps to generate (1 in 4 SAML)")
    parser.add_argument("--log-events", type=int, default=0, help="System Log events (29 days)")
    parser.add_argument(
        "--all",
        action="store_true",
        help="collect with --user-grants --refresh-tokens --log-days 30 (--log-max-pages 1000)",
    )
    args = parser.parse_args()

    from connectors.okta import OktaConnector
    from policyengine.log import configure
    from policyengine.snapshot.writer import SnapshotWriter

    configure("json", "warning", stream=sys.stderr)
    parent, child = mp.Pipe()
    started = time.monotonic()
    proc = mp.get_context("spawn").Process(
        target=serve,
        args=(child, args.users, args.rate_limit, args.window, args.apps, args.log_events),
        daemon=True,
    )
    proc.start()
    base_url = parent.recv()
    print(f"emulator ready in {time.monotonic() - started:.1f}s at {base_url}", file=sys.stderr)
    os.environ["OKTA_BENCH_TOKEN"] = TOKEN
    with tempfile.TemporaryDirectory() as tmp:
        out = Path(tmp) / "okta.jsonl"
        t0 = time.monotonic()
        connector = OktaConnector.from_options(
            {
                "org_url": base_url,
                "token_env": "OKTA_BENCH_TOKEN",
                "max_concurrency": args.max_concurrency,
                "page_size": args.page_size,
                **(
                    {
                        "user_grants": True,
                        "refresh_tokens": True,
                        "log_days": 30,
                        "log_max_pages": 1000,
                    }
                    if args.all
                    else {}
                ),
            },
            instance="okta",
        )
        with SnapshotWriter(out, connector="okta", instance="okta") as result:
            connector.collect(result)
        wall = time.monotonic() - t0
        size = out.stat().st_size
    parent.send("stop")
    stats = parent.recv()
    proc.join(timeout=10)
    limit = f"{args.rate_limit}/{args.window}s" if args.rate_limit else "none"
    print(f"users:               {args.users:,} (with factors: {stats['factor_users']:,})")
    print(f"rate limit:          {limit} on /api/v1/users/{{id}}/*")
    print(f"max concurrency:     {args.max_concurrency}")
    print(f"complete:            {result.complete} {list(result.errors)}")
    print(f"resources:           { {k: v for k, v in result.counts.items() if v} }")
    print(f"wall time:           {wall:.1f} s")
    print(f"requests (server):   {stats['requests']:,} ({stats['requests'] / wall:,.0f}/s)")
    print(f"requests (client):   {connector.request_count:,}, retries {connector.retry_count}")
    print(f"rate-limit pauses:   {connector.rate_limit_pauses}")
    print(f"429 answers:         {stats['rejected_429']:,}")
    print(f"snapshot size:       {size / 1e6:.1f} MB")
    print(f"peak RSS (client):   {_peak_rss_mb():.0f} MB")
    print("requests by route:")
    for route, count in stats["by_route"].items():
        print(f"  {count:>8,}  {route}")
    return 0 if result.complete else 3


def _peak_rss_mb() -> float:
    import resource

    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


if __name__ == "__main__":
    raise SystemExit(main())
