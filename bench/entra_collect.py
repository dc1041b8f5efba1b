"""Benchmark: collect a large Entra tenant from the local Graph emulator.

100,000 users, 2,000 applications and 5,000 service principals by default. The emulator
runs in its own process. Prints wall time, request counts (Graph and token), pages per
listing and the collector's peak RSS. The request count must stay near
``users / page size`` (users, plus the bulk registration report): never a call per user.

    .venv/bin/python bench/entra_collect.py
    .venv/bin/python bench/entra_collect.py --users 10000 --apps 200 --sps 500
"""

from __future__ import annotations

import argparse
import collections
import multiprocessing as mp
import os
import resource
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

CLIENT_ID = "9a8b7c6d-1111-2222-3333-444455556666"
SECRET = "bench-entra-client-secret-0123456789"


def serve(conn, users: int, apps: int, sps: int) -> None:
    """Child process: build the tenant in memory, serve it, report counts when told to stop."""
    from tests.emulators._server import EmulatorServer
    from tests.emulators.entra import Client, EntraEmulator
    from tests.emulators.entra_tenant import generate

    tenant = generate(users, apps, sps)
    emulator = EntraEmulator(tenant, {CLIENT_ID: Client(secret=SECRET)})
    tls_dir = tempfile.mkdtemp()  # https: MSAL accepts no other authority scheme
    with EmulatorServer(
        emulator, tls_dir=tls_dir
    ) as server:  # a few hundred requests: keep the log
        conn.send((server.base_url, str(server.ca_file)))
        conn.recv()
        paths = collections.Counter(r.path for r in server.requests)
        conn.send({"requests": server.request_count, "paths": dict(paths)})


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--users", type=int, default=100_000)
    parser.add_argument("--apps", type=int, default=2_000)
    parser.add_argument("--sps", type=int, default=5_000)
    parser.add_argument("--page-size", type=int, default=999)
    args = parser.parse_args()

    from connectors.entra import EntraConnector
    from policyengine.log import configure
    from policyengine.snapshot.writer import SnapshotWriter
    from tests.emulators.entra import EntraTenant

    configure("json", "warning", stream=sys.stderr)
    parent, child = mp.Pipe()
    started = time.monotonic()
    proc = mp.get_context("spawn").Process(
        target=serve, args=(child, args.users, args.apps, args.sps), daemon=True
    )
    proc.start()
    base_url, ca_file = parent.recv()
    print(f"emulator ready in {time.monotonic() - started:.1f}s at {base_url}", file=sys.stderr)
    os.environ["ENTRA_BENCH_SECRET"] = SECRET
    with tempfile.TemporaryDirectory() as tmp:
        out = Path(tmp) / "entra.jsonl"
        t0 = time.monotonic()
        connector = EntraConnector.from_options(
            {
                "tenant_id": EntraTenant().tenant_id,
                "client_id": CLIENT_ID,
                "client_secret_env": "ENTRA_BENCH_SECRET",
                "authority_url": base_url,
                "graph_url": base_url,
                "ca_file": ca_file,
                "page_size": args.page_size,
            },
            instance="entra",
        )
        with SnapshotWriter(out, connector="entra", instance="entra") as result:
            connector.collect(result)
        wall = time.monotonic() - t0
        size = out.stat().st_size
    parent.send("stop")
    stats = parent.recv()
    proc.join(timeout=10)
    rss_mb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    users_pages = stats["paths"].get("/v1.0/users", 0)
    print(f"tenant:              {args.users:,} users, {args.apps:,} apps, {args.sps:,} SPs")
    print(f"page size:           {args.page_size} (users: at most 500 with signInActivity)")
    print(f"complete:            {result.complete} {list(result.errors)}")
    print(f"resources:           { {k: v for k, v in result.counts.items() if v} }")
    print(f"wall time:           {wall:.1f} s")
    print(f"requests (server):   {stats['requests']:,}")
    print(f"requests (client):   {connector.request_count:,}, retries {connector.retry_count}")
    print(f"  /v1.0/users pages: {users_pages:,} (users / 500 = {args.users / 500:,.0f})")
    for path, count in sorted(stats["paths"].items(), key=lambda kv: -kv[1])[:8]:
        print(f"  {count:>6,}  {path}")
    print(f"peak RSS (collector): {rss_mb:,.0f} MB")
    print(f"snapshot size:       {size / 1e6:.1f} MB")
    return 0 if result.complete else 3


if __name__ == "__main__":
    raise SystemExit(main())
