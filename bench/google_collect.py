"""Benchmark: collect N Google Workspace users with their OAuth tokens and app passwords.

The emulator runs in its own process and enforces Google's default per-user quota,
2,400 queries per minute (the Directory API limits page), over every call, answered
with 403 ``userRateLimitExceeded`` once spent. Time is scaled by ``--scale`` S: the
emulator's window is 60/S seconds, and the connector's quota window and backoff are
divided by S too, so a run takes about 1/S of the real time the quota would impose.
Per-user calls (tokens, asps) run concurrently and back off with jitter. Prints wall
time (and x S, the real-quota equivalent), requests, retries, 403s and peak RSS.

    .venv/bin/python bench/google_collect.py                        # 50,000 users, S = 6
    .venv/bin/python bench/google_collect.py --users 2000 --quota 0  # no quota
"""

from __future__ import annotations

import argparse
import multiprocessing as mp
import resource
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

CLIENT_EMAIL = "bench@policyengine-bench.iam.gserviceaccount.com"
SUBJECT = "ana.admin@northwind-retail.example"


def serve(conn, users: int, quota: int, window: int, public_pem: str) -> None:
    """Child process: build the tenant in memory, serve it, report counts when told to stop."""
    from tests.emulators._server import EmulatorServer
    from tests.emulators.google import GoogleEmulator, GoogleTenant

    tenant = GoogleTenant.generated(users)
    emulator = GoogleEmulator(
        tenant,
        client_email=CLIENT_EMAIL,
        public_key_pem=public_pem,
        admins=frozenset({SUBJECT}),
        user_quota=quota or None,
        quota_window=window,
    )
    with EmulatorServer(emulator, log_limit=0) as server:
        conn.send(server.base_url)
        conn.recv()
        rejected = emulator.limiter.rejected if emulator.limiter else 0
        conn.send({"requests": server.request_count, "rejected_403": rejected})


def key_pair() -> tuple[str, str]:
    from cryptography.hazmat.primitives import serialization
    from cryptography.hazmat.primitives.asymmetric import rsa

    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    private = key.private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
    ).decode()
    public = (
        key.public_key()
        .public_bytes(serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo)
        .decode()
    )
    return private, public


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--users", type=int, default=50_000)
    parser.add_argument(
        "--quota", type=int, default=2_400, help="queries per minute per user (0: none)"
    )
    parser.add_argument(
        "--scale", type=int, default=6, help="time scale S: the minute lasts 60/S seconds"
    )
    parser.add_argument("--max-concurrency", type=int, default=8)
    args = parser.parse_args()

    import json

    from connectors.google import GoogleConnector
    from policyengine.log import configure
    from policyengine.snapshot.writer import SnapshotWriter

    configure("json", "warning", stream=sys.stderr)
    private, public = key_pair()
    parent, child = mp.Pipe()
    started = time.monotonic()
    window = 60 // args.scale
    proc = mp.get_context("spawn").Process(
        target=serve, args=(child, args.users, args.quota, window, public), daemon=True
    )
    proc.start()
    base_url = parent.recv()
    print(f"emulator ready in {time.monotonic() - started:.1f}s at {base_url}", file=sys.stderr)
    with tempfile.TemporaryDirectory() as tmp:
        key_file = Path(tmp) / "key.json"
        key_file.write_text(
            json.dumps(
                {
                    "type": "service_account",
                    "client_email": CLIENT_EMAIL,
                    "private_key": private,
                    "token_uri": base_url + "/token",
                }
            )
        )
        out = Path(tmp) / "google.jsonl"
        t0 = time.monotonic()
        connector = GoogleConnector.from_options(
            {
                "service_account_file": str(key_file),
                "subject": SUBJECT,
                "api_url": base_url,
                "max_concurrency": args.max_concurrency,
                # the connector's clock scaled like the emulator's: pauses and backoff / S
                "quota": args.quota,
                "quota_window": float(window),
                "retry_backoff": 0.5 / args.scale,
            },
            instance="google",
        )
        with SnapshotWriter(out, connector="google", instance="google") as result:
            connector.collect(result)
        wall = time.monotonic() - t0
        size = out.stat().st_size
    parent.send("stop")
    stats = parent.recv()
    proc.join(timeout=10)
    quota = f"{args.quota} per {window}s (a minute / {args.scale})" if args.quota else "none"
    rss = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    print(f"users:               {args.users:,} (each with 1 OAuth token and 1 app password)")
    print(f"quota:               {quota} per user over every call")
    print(f"max concurrency:     {args.max_concurrency}")
    print(f"complete:            {result.complete} {list(result.errors)[:3]}")
    print(f"resources:           { {k: v for k, v in result.counts.items() if v} }")
    print(f"wall time:           {wall:.1f} s (x {args.scale} = {wall * args.scale / 60:.1f} min)")
    if args.quota:
        floor = stats["requests"] / args.quota
        print(f"quota floor:         {floor:.1f} minutes of real quota for these requests")
    print(f"requests (server):   {stats['requests']:,} ({stats['requests'] / wall:,.0f}/s)")
    print(f"requests (client):   {connector.request_count:,}, retries {connector.retry_count}")
    print(f"403 quota answers:   {stats['rejected_403']:,}, shared pauses {connector.quota.pauses}")
    print(f"peak RSS (collector): {rss:.0f} MB")
    print(f"snapshot size:       {size / 1e6:.1f} MB")
    return 0 if result.complete else 3


if __name__ == "__main__":
    raise SystemExit(main())
