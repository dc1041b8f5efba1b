"""The baseline: a plain hand-written single pass over the snapshot.

orjson loads the whole JSON file, then one ``for`` loop per resource list
applies the 8 benchmark policies as straight Python. Prints the per-policy
violation counts as JSON (the benchmark compares them with the engine's).
"""

from __future__ import annotations

import sys
import time

import orjson

NOW = "2026-11-01T00:00:00Z"
CUTOFF_90D = "2026-08-03T00:00:00Z"  # NOW - 90 days
SECRET_TYPES = {"api_token", "client_secret", "access_key"}
BROAD = {"full_access", "data:read_all", "data:write_all", "admin:org"}


def main(path: str) -> None:
    t0 = time.perf_counter()
    with open(path, "rb") as handle:
        doc = orjson.loads(handle.read())
    t1 = time.perf_counter()
    c = dict.fromkeys(
        [
            "BENCH-P1",
            "BENCH-P2",
            "BENCH-P3",
            "BENCH-P4",
            "BENCH-P5",
            "BENCH-P6",
            "BENCH-P7A",
            "BENCH-P7B",
            "BENCH-P8",
        ],
        0,
    )
    for a in doc.get("accounts", []):
        if a.get("enabled") is not True:
            continue
        mfa = a.get("mfa") or {}
        if mfa.get("enrolled") is not True:
            c["BENCH-P2"] += 1
        if a.get("privileged") is not True:
            continue
        if "webauthn" not in (mfa.get("methods") or []):
            c["BENCH-P1"] += 1
        s = a.get("session") or {}
        life, idle = s.get("max_lifetime_minutes"), s.get("idle_timeout_minutes")
        if (life is not None and life > 720) or (idle is not None and idle > 15):
            c["BENCH-P3"] += 1
        last = a.get("last_login_at")
        if last is None or last <= CUTOFF_90D:
            c["BENCH-P4"] += 1
    for r in doc.get("credentials", []):
        used = r.get("last_used_at")
        if used is None or used <= CUTOFF_90D:
            c["BENCH-P7A"] += 1
        if r.get("type") in SECRET_TYPES:
            if r.get("last_rotated_at") is None and r.get("created_at", "") <= CUTOFF_90D:
                c["BENCH-P5"] += 1
            if r.get("expires_at") is None:
                c["BENCH-P8"] += 1
    for r in doc.get("integrations", []):
        used = r.get("last_used_at")
        if used is None or used <= CUTOFF_90D:
            c["BENCH-P7B"] += 1
        if BROAD & set(r.get("scopes") or ()) and r.get("admin_approved") is not True:
            c["BENCH-P6"] += 1
    t2 = time.perf_counter()
    print(
        orjson.dumps(
            {"load_s": round(t1 - t0, 3), "eval_s": round(t2 - t1, 3), "counts": c}
        ).decode()
    )


if __name__ == "__main__":
    main(sys.argv[1])
