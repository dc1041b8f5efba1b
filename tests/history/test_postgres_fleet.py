"""A fleet on one PostgreSQL: 8 scans of different configs write at once, 2 of one config take turns.

Real processes, each holding its history the way `policyengine scan` does
(as :func:`scan_history` does: the schema's advisory lock for the whole scan,
one transaction per run), each "collecting" for a while inside the lock.
"""

from __future__ import annotations

import dataclasses
import json
import subprocess
import sys
import textwrap
import time

from policyengine.history import HistoryStore, PostgresHistory

SCAN = textwrap.dedent(
    """
    import json, sys, time
    from pathlib import Path
    from policyengine.findings.model import Finding, ResourceRef, Result, SourceStatus, fingerprint
    from policyengine.history import HistoryStore, PostgresHistory
    url, schema, secret, tag, n, start, hold = sys.argv[1:8]
    target = PostgresHistory(url, schema, password_file=Path(secret))
    now = "2026-11-01T00:00:00Z"
    findings = tuple(
        Finding("P-1", "high", "t", ResourceRef("account", "corp", f"{schema}-{j}", "x"), "m",
                (), "r", {}, fingerprint("P-1", "account", "corp", f"{schema}-{j}"))
        for j in range(int(n))
    )
    result = Result(findings, (), (SourceStatus("file", "corp", now, True),), now)
    # What scan_history() does for PostgreSQL, with the wait for the lock timed apart.
    with HistoryStore.open(target) as store:
        time.sleep(max(0.0, float(start) - time.time()))
        asked = time.time()
        with store.scan_lock(120):
            got = time.time()
            time.sleep(float(hold))  # collecting, with the lock held
            changes = store.record_run(result, started_at=f"2026-11-01T06:00:0{tag}Z")
            done = time.time()
    print(json.dumps({"asked": asked, "got": got, "done": done, "run": changes.run.id,
                      "new": changes.run.new, "still_open": changes.run.still_open}))
    """
)

N = 2000
HOLD = 5.0  # long enough that a busy machine's scheduling delay is not read as a lock wait


def test_eight_tenants_write_at_once_and_two_scans_of_one_tenant_take_turns(pg_history):
    base = pg_history
    tenants = [dataclasses.replace(base, schema=f"{base.schema}_t{i}") for i in range(8)]
    shared = dataclasses.replace(base, schema=f"{base.schema}_shared")
    for target in (*tenants, shared):  # create the schemas first, as a deployment would
        HistoryStore.open(target).close()
    start = time.time() + 15  # every process imports first, then all ask at once
    jobs = [(t, "1") for t in tenants] + [(shared, "1"), (shared, "2")]
    procs = [
        subprocess.Popen(
            [
                sys.executable,
                "-c",
                SCAN,
                t.url,
                t.schema,
                str(t.password_file),
                tag,
                str(N),
                str(start),
                str(HOLD),
            ],
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        for t, tag in jobs
    ]
    outs = []
    for proc in procs:
        out, err = proc.communicate(timeout=180)
        assert proc.returncode == 0, err
        outs.append(json.loads(out))
    alone, pair = outs[:8], outs[8:]

    # Different configs: none waited for another, and all held their lock at the same time.
    assert all(o["got"] - o["asked"] < HOLD / 2 for o in alone), alone
    assert max(o["got"] for o in alone) < min(o["done"] for o in alone)
    assert all((o["run"], o["new"], o["still_open"]) == (1, N, 0) for o in alone)

    # The same config: one waited until the other had committed, then saw its findings.
    first, second = sorted(pair, key=lambda o: o["got"])
    assert second["got"] >= first["done"] and second["got"] - second["asked"] >= HOLD * 0.8
    assert (first["run"], first["new"]) == (1, N)
    assert (second["run"], second["new"], second["still_open"]) == (2, 0, N)

    # Nothing lost, nothing duplicated, nothing of one tenant in another's history.
    for target in tenants:
        _assert_history(target, runs=1)
    _assert_history(shared, runs=2)


def _assert_history(target: PostgresHistory, *, runs: int) -> None:
    with HistoryStore.open(target) as store:
        assert [r.id for r in store.runs()] == list(range(1, runs + 1))
        findings = store.findings()
        assert len(findings) == N and all(f.is_open for f in findings)
        assert {f.resource_id.rsplit("-", 1)[0] for f in findings} == {target.schema}
        events = store._db.execute("SELECT event, COUNT(*) FROM events GROUP BY event").fetchall()
        assert events == [("new", N)]
