"""Seeded generator of a large snapshot: 1,000,000 accounts and 50,000 credentials.

Writes the same content twice, as JSON and as JSON Lines, in our snapshot
format. Deterministic for a given seed and size.

    python bench/generate.py --accounts 1000000 --credentials 50000 --out bench/data
"""

from __future__ import annotations

import argparse
import random
from pathlib import Path

import orjson

NOW = "2026-11-01T00:00:00Z"
METHODS = ["webauthn", "fido2", "push", "totp", "sms", "voice", "email"]
SCOPES = [
    "full_access",
    "data:read_all",
    "data:write_all",
    "admin:org",
    "api",
    "openid",
    "profile",
    "refresh_token",
]
CRED_TYPES = [
    "api_token",
    "client_secret",
    "access_key",
    "oauth_token",
    "personal_access_token",
    "certificate",
]


def _day(rng: random.Random, max_days: int) -> str:
    """A timestamp up to ``max_days`` before NOW (2026-11-01)."""
    days = rng.randrange(max_days)
    seconds = rng.randrange(86400)
    # 2026-11-01 is day 0; compute the calendar date via ordinal arithmetic
    import datetime as dt

    moment = dt.datetime(2026, 11, 1, tzinfo=dt.UTC) - dt.timedelta(days=days, seconds=seconds)
    return moment.strftime("%Y-%m-%dT%H:%M:%SZ")


def accounts(rng: random.Random, n: int):
    for i in range(n):
        privileged = rng.random() < 0.03
        enabled = rng.random() < 0.92
        r = rng.random()
        if r < 0.06:
            mfa = None  # no MFA data at all
        elif r < 0.10:
            mfa = {"enrolled": False, "methods": [], "phishing_resistant": False}
        else:
            methods = sorted(set(rng.sample(METHODS, rng.randint(1, 3))))
            mfa = {
                "enrolled": True,
                "methods": methods,
                "phishing_resistant": bool({"webauthn", "fido2"} & set(methods)),
            }
        account = {
            "kind": "account",
            "id": f"u{i:07d}",
            "name": f"user{i:07d}",
            "type": "service" if rng.random() < 0.05 else "human",
            "enabled": enabled,
            "email": f"user{i:07d}@bench.example",
            "privileged": privileged,
            "created_at": _day(rng, 2000),
            "session": {
                "max_lifetime_minutes": rng.choice([480, 720, 1440]),
                "idle_timeout_minutes": rng.choice([10, 15, 30, 120]),
            },
            "groups": [f"g{rng.randrange(500)}"],
            "raw": {"department": rng.choice(["sales", "it", "ops", "finance"]), "title": "staff"},
        }
        if privileged:
            account["privileged_via"] = ["group:admins"]
        if mfa is not None:
            account["mfa"] = mfa
        if rng.random() < 0.9:
            account["last_login_at"] = _day(rng, 200)
        yield account


def credentials(rng: random.Random, n: int, n_accounts: int):
    for i in range(n):
        cred = {
            "kind": "credential",
            "id": f"c{i:06d}",
            "name": f"token-{i:06d}",
            "type": rng.choice(CRED_TYPES),
            "owner": f"u{rng.randrange(n_accounts):07d}",
            "created_at": _day(rng, 1500),
            "scopes": rng.sample(SCOPES, 2),
        }
        if rng.random() < 0.5:
            cred["last_rotated_at"] = _day(rng, 300)
        if rng.random() < 0.7:
            cred["last_used_at"] = _day(rng, 400)
        if rng.random() < 0.6:
            cred["expires_at"] = _day(rng, 100).replace("2026", "2027", 1)
        yield cred


def integrations(rng: random.Random, n: int):
    for i in range(n):
        integ = {
            "kind": "integration",
            "id": f"app{i:05d}",
            "name": f"app-{i:05d}",
            "type": rng.choice(["connected_app", "oauth_client"]),
            "admin_approved": rng.random() < 0.6,
            "scopes": rng.sample(SCOPES, rng.randint(1, 3)),
            "created_at": _day(rng, 1500),
        }
        if rng.random() < 0.8:
            integ["last_used_at"] = _day(rng, 400)
        yield integ


def header(counts: dict[str, int]) -> dict:
    return {
        "snapshot_version": 1,
        "source": {
            "connector": "okta",
            "instance": "bench",
            "collected_at": NOW,
            "complete": True,
            "errors": [],
            "counts": counts,
        },
        "record_count": sum(counts.values()),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--accounts", type=int, default=1_000_000)
    parser.add_argument("--credentials", type=int, default=50_000)
    parser.add_argument("--integrations", type=int, default=2_000)
    parser.add_argument("--seed", type=int, default=20261101)
    parser.add_argument("--out", type=Path, default=Path("bench/data"))
    parser.add_argument("--stem", help="file name without suffix (default: bench-ACCOUNTS)")
    args = parser.parse_args()
    args.out.mkdir(parents=True, exist_ok=True)
    counts = {
        "account": args.accounts,
        "credential": args.credentials,
        "integration": args.integrations,
    }
    stem = args.stem or f"bench-{args.accounts}"
    jsonl, json_path = args.out / f"{stem}.jsonl", args.out / f"{stem}.json"

    def records():
        # small kinds first, so a streaming reader sees them before the large one
        yield from integrations(random.Random(args.seed + 2), args.integrations)
        yield from credentials(random.Random(args.seed + 1), args.credentials, args.accounts)
        yield from accounts(random.Random(args.seed), args.accounts)

    with open(jsonl, "wb") as out:
        out.write(orjson.dumps(header(counts)) + b"\n")
        for record in records():
            out.write(orjson.dumps(record) + b"\n")
    with open(json_path, "wb") as out:
        out.write(orjson.dumps(header(counts))[:-1])
        current = None
        for record in records():
            key = record["kind"] + "s"
            if key != current:
                out.write((b"]," if current else b",") + b'"' + key.encode() + b'":[')
                current = key
            else:
                out.write(b",")
            out.write(orjson.dumps(record))
        out.write(b"]}\n")
    print(
        f"wrote {jsonl} ({jsonl.stat().st_size / 1e6:.0f} MB) and {json_path} ({json_path.stat().st_size / 1e6:.0f} MB)"
    )


if __name__ == "__main__":
    main()
