"""Benchmark: record ~500k findings into the scan history, then a scan where 1% changed.

Both backends in one run: a SQLite file and a schema on a throwaway PostgreSQL
(tests/history/pg_server.py, with PostgreSQL's durable defaults: fsync on).
Prints the wall time of each ``record_run`` and the finding rows it wrote,
counted by the database (SQLite: temporary triggers; PostgreSQL: rows whose
``xmin`` is the run's transaction). The second run changes 1%: 0.4% fixed,
0.4% new, 0.2% with a new severity; a history that rewrote unchanged findings
would write ~500k rows there.

    .venv/bin/python bench/history_write.py
    .venv/bin/python bench/history_write.py --findings 100000 --sqlite-only
"""

from __future__ import annotations

import argparse
import sys
import tempfile
import time
import uuid
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from policyengine.findings.model import (
    Finding,
    PolicyInfo,
    ResourceRef,
    Result,
    SourceStatus,
    fingerprint,
)

NOW = "2026-11-01T00:00:00Z"
POLICIES = [f"PE-BENCH-{i:03d}" for i in range(20)]


def make_finding(i: int, severity: str = "high") -> Finding:
    policy = POLICIES[i % len(POLICIES)]
    rid = f"user{i:07d}"
    return Finding(
        policy, severity, f"title of {policy}", ResourceRef("account", "corp", rid, rid), "m",
        (), "fix it", {}, fingerprint(policy, "account", "corp", rid),
    )  # fmt: skip


def result_of(findings: list[Finding]) -> Result:
    return Result(
        tuple(findings),
        tuple(PolicyInfo(p, p, "high", "account") for p in POLICIES),
        (SourceStatus("file", "corp", NOW, True),),
        NOW,
    )


def runs(n: int) -> tuple[Result, Result, int]:
    first = [make_finding(i) for i in range(n)]
    fixed, new, severity = n * 4 // 1000, n * 4 // 1000, n * 2 // 1000
    second = first[fixed : n - severity]
    second += [make_finding(i, "critical") for i in range(n - severity, n)]
    second += [make_finding(n + i) for i in range(new)]
    return result_of(first), result_of(second), fixed + new + severity


def count_rows(store, run_id: int) -> int:
    db = store._db
    if isinstance(store.target, Path):
        return int(db.execute("SELECT COUNT(*) FROM temp.written").fetchone()[0])
    return int(
        db.execute(
            "SELECT COUNT(*) FROM findings WHERE xmin = (SELECT xmin FROM runs WHERE id = ?)",
            (run_id,),
        ).fetchone()[0]
    )


def watch_rows(store) -> None:
    if isinstance(store.target, Path):
        db = store._db
        db.execute("CREATE TEMP TABLE written (fingerprint TEXT)")
        for what in ("INSERT", "UPDATE"):
            db.execute(
                f"CREATE TEMP TRIGGER w_{what.lower()} AFTER {what} ON main.findings "
                "BEGIN INSERT INTO written VALUES (new.fingerprint); END"
            )


def side(name: str, target, first: Result, second: Result) -> list[str]:
    from policyengine.history import HistoryStore

    with HistoryStore.open(target) as store:
        started = time.perf_counter()
        one = store.record_run(first, started_at="2026-11-01T06:00:00Z").run
        t1 = time.perf_counter() - started
        watch_rows(store)
        started = time.perf_counter()
        two = store.record_run(second, started_at="2026-11-02T06:00:00Z").run
        t2 = time.perf_counter() - started
        written = count_rows(store, two.id)
    return [
        f"| {name} | first scan | {one.new:,} new | {t1:.1f} s |",
        f"| {name} | second scan (1% changed) | {two.new:,} new, {two.resolved:,} resolved, "
        f"{two.still_open:,} still open | {t2:.1f} s, {written:,} finding rows written |",
    ]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--findings", type=int, default=500_000)
    parser.add_argument("--sqlite-only", action="store_true")
    args = parser.parse_args()
    first, second, changed = runs(args.findings)
    print(f"{args.findings:,} findings; second scan changes {changed:,}")
    rows = ["| backend | run | what changed | time, rows written |", "|---|---|---|---|"]
    with tempfile.TemporaryDirectory() as tmp:
        rows += side("SQLite", Path(tmp) / "history.db", first, second)
    if not args.sqlite_only:
        from policyengine.history import PostgresHistory
        from tests.history.pg_server import postgres_server

        with postgres_server(durable=True) as server, tempfile.TemporaryDirectory() as tmp:
            secret = Path(tmp) / "pw"
            secret.write_text(server.password)
            target = PostgresHistory(
                server.url(), f"bench_{uuid.uuid4().hex[:8]}", password_file=secret
            )
            rows += side("PostgreSQL 15", target, first, second)
    print("\n".join(rows))


if __name__ == "__main__":
    main()
