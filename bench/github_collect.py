"""Benchmark: collect a large GitHub organisation from the local emulator.

5,000 members (each with a verified-domain email, half with a SAML identity: GraphQL),
2,000 repositories (a deploy key and an Actions secret each), 3,000 tokens (2,000
fine-grained, 1,000 SSO credential authorizations), 10 installed Apps. The emulator runs
in its own process and enforces GitHub's primary limit per credential, scaled down:
``--rate-limit`` requests per ``--window`` seconds (default 5,000 per 60 s, i.e. the
hourly budget in a minute), advertised in ``x-ratelimit-*``. Prints wall time,
requests per credential and how many rate-limit answers (403) the emulator sent.

    .venv/bin/python bench/github_collect.py
    .venv/bin/python bench/github_collect.py --repos 500 --rate-limit 0   # no limit
"""

from __future__ import annotations

import argparse
import multiprocessing as mp
import os
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

TOKEN = "ghp_benchOwnerToken00000000000000000000001"


def generate(members: int, repos: int, fine_grained: int, sso: int) -> dict[str, Any]:
    day = "2026-0{m}-1{d}T10:00:00Z"
    people = [
        {"login": f"dev-{n:05d}", "id": 100000 + n, "role": "admin" if n < 3 else "member",
         "two_factor": n % 50 != 0, "verified_emails": [f"dev.{n:05d}@bench.example"]}
        for n in range(members)
    ]  # fmt: skip
    return {
        "org": {"login": "bench-org", "id": 1, "created_at": "2019-01-01T00:00:00Z",
                "updated_at": "2026-11-01T00:00:00Z", "two_factor_requirement_enabled": True,
                "default_repository_permission": "read",
                "members_can_create_public_repositories": False,
                "web_commit_signoff_required": True, "saml_sso": True},
        "members": people,
        "outside_collaborators": [
            {"login": f"ext-{n:03d}", "id": 900000 + n, "two_factor": True} for n in range(50)
        ],
        "teams": [
            {"id": 1000 + t, "slug": f"team-{t}", "name": f"Team {t}",
             "members": [p["login"] for p in people[t::20]]}
            for t in range(20)
        ],
        "repos": [
            {"id": 200000 + r, "name": f"repo-{r:05d}", "private": True,
             "deploy_keys": [{"id": 300000 + r, "title": "ci", "read_only": r % 3 != 0,
                              "created_at": day.format(m=1 + r % 9, d=r % 10),
                              "last_used": day.format(m=1 + r % 9, d=r % 10),
                              "added_by": people[r % members]["login"]}],
             "secrets": [{"name": "DEPLOY_TOKEN", "created_at": "2025-01-01T00:00:00Z",
                          "updated_at": "2025-06-01T00:00:00Z"}],
             "collaborators": [{"login": f"ext-{r % 50:03d}", "role_name": "write"}]}
            for r in range(repos)
        ],
        "org_secrets": [],
        "fine_grained_tokens": [
            {"id": 400000 + t, "token_id": 500000 + t, "token_name": f"pat-{t}",
             "owner": people[t % members]["login"], "repository_selection": "subset",
             "permissions": {"repository": {"contents": "read"}},
             "access_granted_at": "2026-01-01T00:00:00Z", "token_expired": False,
             "token_expires_at": "2027-01-01T00:00:00Z",
             "token_last_used_at": "2026-10-01T00:00:00Z"}
            for t in range(fine_grained)
        ],
        "token_requests": [],
        "credential_authorizations": [
            {"login": people[c % members]["login"], "credential_id": 600000 + c,
             "credential_type": "personal access token", "credential_authorized_at":
             "2025-01-01T00:00:00Z", "credential_accessed_at": "2026-10-01T00:00:00Z",
             "scopes": ["repo"], "authorized_credential_id": 700000 + c}
            for c in range(sso)
        ],
        "saml_identities": [
            {"guid": f"g-{n}", "login": p["login"], "name_id": f"dev.{n:05d}@bench.example"}
            for n, p in enumerate(people[: members // 2])
        ],
        "installations": [
            {"id": 800000 + i, "app_id": 80000 + i, "app_slug": f"app-{i}",
             "repository_selection": "all", "permissions": {"contents": "read"},
             "created_at": "2025-01-01T00:00:00Z", "updated_at": "2025-01-01T00:00:00Z",
             "suspended_at": None}
            for i in range(10)
        ],
        "apps": {
            f"app-{i}": {"owner": f"vendor-{i}", "owner_id": 810000 + i,
                         "owner_type": "Organization", "name": f"App {i}"}
            for i in range(10)
        },
    }  # fmt: skip


def serve(conn: Any, args: argparse.Namespace, public_pem: str) -> None:
    from tests.emulators._server import EmulatorServer
    from tests.emulators.github import GitHubEmulator

    org = generate(args.members, args.repos, args.fine_grained, args.sso)
    limit = args.rate_limit or 10**9
    emulator = GitHubEmulator(
        org, tokens={TOKEN: "dev-00000"}, app_id=1, app_public_pem=public_pem,
        installation_id=1, rate_limit=limit, rate_window=args.window,
    )  # fmt: skip
    with EmulatorServer(emulator, log_limit=0) as server:
        conn.send(server.base_url)
        conn.recv()
        assert emulator._limiter is not None
        conn.send({"requests": server.request_count, "rejected": emulator._limiter.rejected})


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--members", type=int, default=5000)
    parser.add_argument("--repos", type=int, default=2000)
    parser.add_argument("--fine-grained", type=int, default=2000)
    parser.add_argument("--sso", type=int, default=1000)
    parser.add_argument("--rate-limit", type=int, default=5000, help="per credential; 0: none")
    parser.add_argument("--window", type=int, default=60, help="rate-limit window, seconds")
    parser.add_argument("--max-concurrency", type=int, default=4)
    args = parser.parse_args()

    from cryptography.hazmat.primitives import serialization
    from cryptography.hazmat.primitives.asymmetric import rsa

    from connectors.github import GitHubConnector
    from policyengine.log import configure
    from policyengine.snapshot.writer import SnapshotWriter

    configure("json", "warning", stream=sys.stderr)
    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    private = key.private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
        serialization.NoEncryption(),
    ).decode()  # fmt: skip
    public = (
        key.public_key()
        .public_bytes(serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo)
        .decode()
    )
    parent, child = mp.Pipe()
    proc = mp.get_context("spawn").Process(target=serve, args=(child, args, public), daemon=True)
    proc.start()
    base_url = parent.recv()
    os.environ["GH_BENCH_TOKEN"] = TOKEN
    with tempfile.TemporaryDirectory() as tmp:
        pem = Path(tmp) / "app.pem"
        pem.write_text(private)
        out = Path(tmp) / "github.jsonl"
        t0 = time.monotonic()
        connector = GitHubConnector.from_options(
            {"org": "bench-org", "api_url": base_url, "token_env": "GH_BENCH_TOKEN",
             "app_id": "1", "private_key_file": str(pem), "installation_id": 1,
             "max_concurrency": args.max_concurrency},
            instance="github",
        )  # fmt: skip
        with SnapshotWriter(out, connector="github", instance="github") as result:
            connector.collect(result)
        wall = time.monotonic() - t0
    parent.send("stop")
    stats = parent.recv()
    proc.join(timeout=10)
    limit = f"{args.rate_limit}/{args.window}s per credential" if args.rate_limit else "none"
    print(f"org:                 {args.members:,} members, {args.repos:,} repositories, "
          f"{args.fine_grained + args.sso:,} tokens")  # fmt: skip
    print(f"rate limit:          {limit}")
    print(f"complete:            {result.complete} {list(result.errors)[:3]}")
    print(f"resources:           { {k: v for k, v in result.counts.items() if v} }")
    print(f"wall time:           {wall:.1f} s")
    print(f"requests (server):   {stats['requests']:,}")
    print(f"requests (client):   {connector.request_count:,}, retries {connector.retry_count}")
    split = ", ".join(f"{k} {v:,}" for k, v in connector.requests_by_credential.items())
    print(f"requests per credential: {split} (calls either may make go to the fuller budget)")
    print(f"rate-limit pauses:   {connector.rate_limit_pauses}")
    print(f"rate-limit answers:  {stats['rejected']:,} (403, limit spent)")
    print(f"installation tokens: {connector.installation_tokens}")
    return 0 if result.complete else 3


if __name__ == "__main__":
    raise SystemExit(main())
