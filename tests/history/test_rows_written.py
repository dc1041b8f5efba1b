"""A run rewrites only the findings that changed; last seen stays right without the rewrite."""

from __future__ import annotations

from pathlib import Path

from policyengine.history import HistoryStore

T1, T2, T3, T4 = (f"2026-11-0{d}T06:00:00Z" for d in (1, 2, 3, 4))
N = 1000


def _findings_written(store: HistoryStore, run_id: int) -> int:
    """Rows of ``findings`` inserted or updated by run ``run_id``, as the database saw it."""
    db = store._db
    if isinstance(store.target, Path):
        return int(db.execute("SELECT COUNT(*) FROM temp.written").fetchone()[0])
    # PostgreSQL stamps every row version with the writing transaction (xmin): the run's own.
    return int(
        db.execute(
            "SELECT COUNT(*) FROM findings WHERE xmin = (SELECT xmin FROM runs WHERE id = ?)",
            (run_id,),
        ).fetchone()[0]
    )


def _count_writes(store: HistoryStore) -> None:
    if isinstance(store.target, Path):  # SQLite: temporary triggers on this connection only
        db = store._db
        db.execute("CREATE TEMP TABLE written (fingerprint TEXT)")
        for what in ("INSERT", "UPDATE"):
            db.execute(
                f"CREATE TEMP TRIGGER count_{what.lower()} AFTER {what} ON main.findings "
                "BEGIN INSERT INTO written VALUES (new.fingerprint); END"
            )


def test_a_run_where_one_percent_changed_writes_one_percent(history_target, finding, result):
    everyone = [finding("P-1", "corp", f"u{i}") for i in range(N)]
    with HistoryStore.open(history_target) as store:
        store.record_run(result(everyone), started_at=T1)
        _count_writes(store)
        # 1% changed: 4 fixed, 4 new, 2 whose severity changed; 990 exactly as before.
        second = everyone[4:-2] + [finding("P-1", "corp", f"u{i}", "critical") for i in (998, 999)]
        second += [finding("P-1", "corp", f"new{i}") for i in range(4)]
        run = store.record_run(result(second), started_at=T2).run
        assert (run.new, run.resolved, run.still_open) == (4, 4, N - 4)
        assert _findings_written(store, run.id) == 4 + 4 + 2
        records = {r.resource_id: r for r in store.findings()}
    assert records["u500"].last_seen == T2 and records["u500"].first_seen == T1
    assert records["u0"].resolved_at == T2 and records["u0"].last_seen == T1
    assert records["u999"].severity == "critical" and records["new0"].first_seen == T2


def test_last_seen_of_a_carried_finding_stays_at_its_last_check(history_target, finding, result):
    corp, sf = finding("P-1", "corp", "u1"), finding("P-1", "sf", "u2")
    with HistoryStore.open(history_target) as store:
        store.record_run(result([corp, sf]), started_at=T1)
        store.record_run(result([corp, sf]), started_at=T2)
        store.record_run(result([sf], incomplete=["corp"]), started_at=T3)  # corp not re-checked
        after_gap = {r.source: r.last_seen for r in store.findings()}
        store.record_run(result([sf], incomplete=["corp"]), started_at=T4)
        still = {r.source: r.last_seen for r in store.findings()}
    assert after_gap == {"corp": T2, "sf": T3}
    assert still == {"corp": T2, "sf": T4}


def test_a_carried_finding_seen_again_follows_the_latest_run(history_target, finding, result):
    corp = finding("P-1", "corp", "u1")
    with HistoryStore.open(history_target) as store:
        store.record_run(result([corp]), started_at=T1)
        store.record_run(result([], incomplete=["corp"]), started_at=T2)
        store.record_run(result([corp]), started_at=T3)
        store.record_run(result([corp]), started_at=T4)
        (record,) = store.findings()
    assert (record.last_seen, record.resolved_at, record.reopened) == (T4, None, 0)


def test_upgrading_a_v1_history_keeps_the_last_seen_of_carried_findings(tmp_path):
    """v1 bumped every seen row's last_run; rows it did not bump in the latest run were carried."""
    import sqlite3

    from policyengine.history import _schema

    path = tmp_path / "v1.db"
    db = sqlite3.connect(path, isolation_level=None)
    _schema.migrate(db, _schema.MIGRATIONS[:1])
    for run_id, at in ((1, T1), (2, T2)):
        db.execute(
            "INSERT INTO runs VALUES (?, ?, ?, ?, 1, '[]', '[]', NULL, 0, 0, 0, 0, 0, 0)",
            (run_id, at, at, at),
        )
    for rid, last_run, last_seen in (("seen", 2, T2), ("carried", 1, T1)):
        db.execute(
            "INSERT INTO findings (fingerprint, policy_id, severity, title, kind, source, "
            "resource_id, resource_name, first_seen, opened_at, last_seen, first_run, last_run) "
            "VALUES (?, 'P-1', 'high', 't', 'account', 'corp', ?, ?, ?, ?, ?, 1, ?)",
            (rid, rid, rid, T1, T1, last_seen, last_run),
        )
    db.close()
    with HistoryStore.open(path) as store:
        assert store.schema_version() == len(_schema.MIGRATIONS)
        last_seen = {r.resource_id: r.last_seen for r in store.findings()}
    assert last_seen == {"seen": T2, "carried": T1}
