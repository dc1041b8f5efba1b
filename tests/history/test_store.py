"""The history store: transitions between runs, fail-closed resolution, trends, MTTR."""

from __future__ import annotations

import sqlite3

import pytest

from policyengine.history import HistoryError, HistoryStore, _schema

T1, T2, T3 = "2026-11-01T06:00:00Z", "2026-11-02T06:00:00Z", "2026-11-03T18:00:00Z"


def test_first_run_marks_everything_new(history_target, finding, result):
    with HistoryStore.open(history_target) as store:
        changes = store.record_run(
            result([finding("P-1", "corp", "u1"), finding("P-2", "sf", "u2", "low")]),
            started_at=T1,
        )
    run = changes.run
    assert (run.id, run.new, run.still_open, run.resolved, run.open) == (1, 2, 0, 0, 2)
    assert run.by_severity["high"] == 1 and run.by_severity["low"] == 1
    assert run.by_source == {"corp": 1, "sf": 1}
    assert len(changes.new) == 2


def test_fixed_finding_is_resolved_and_others_stay_open(history_target, finding, result):
    a, b = finding("P-1", "corp", "u1"), finding("P-1", "corp", "u2")
    with HistoryStore.open(history_target) as store:
        store.record_run(result([a, b]), started_at=T1)
        changes = store.record_run(result([b]), started_at=T2)
        run = changes.run
        assert (run.new, run.still_open, run.resolved, run.open) == (0, 1, 1, 1)
        assert [r.fingerprint for r in changes.resolved] == [a.fingerprint]
        records = {r.fingerprint: r for r in store.findings()}
    assert records[a.fingerprint].resolved_at == T2
    assert records[a.fingerprint].first_seen == T1
    assert records[b.fingerprint].resolved_at is None
    assert records[b.fingerprint].last_seen == T2


def test_incomplete_source_never_resolves_its_findings(history_target, finding, result):
    corp, sf = finding("P-1", "corp", "u1"), finding("P-1", "sf", "u9")
    with HistoryStore.open(history_target) as store:
        store.record_run(result([corp, sf]), started_at=T1)
        # corp failed: its finding is absent from the data, but must stay open.
        changes = store.record_run(result([], incomplete=["corp"]), started_at=T2)
        open_now = {r.fingerprint for r in store.findings(open_only=True)}
    run = changes.run
    assert run.complete is False and run.missing == ("corp",)
    assert run.resolved == 1 and run.carried == 1 and run.open == 1
    assert open_now == {corp.fingerprint}
    assert [r.fingerprint for r in changes.carried] == [corp.fingerprint]


def test_absent_source_and_unevaluated_policy_do_not_resolve(history_target, finding, result):
    a, b = finding("P-1", "corp", "u1"), finding("P-2", "sf", "u2")
    with HistoryStore.open(history_target) as store:
        store.record_run(result([a, b]), started_at=T1)
        # sf not collected at all; P-1 not evaluated (disabled): nothing resolves.
        changes = store.record_run(result([], sources=["corp"], policies=["P-2"]), started_at=T2)
    assert changes.run.resolved == 0 and changes.run.carried == 2


def test_reopened_finding_counts_as_new_again(history_target, finding, result):
    a = finding("P-1", "corp", "u1")
    with HistoryStore.open(history_target) as store:
        store.record_run(result([a]), started_at=T1)
        store.record_run(result([]), started_at=T2)
        changes = store.record_run(result([a]), started_at=T3)
        (record,) = store.findings()
    assert changes.run.new == 1 and changes.new == (a.fingerprint,)
    assert record.reopened == 1 and record.resolved_at is None
    assert record.first_seen == T1 and record.opened_at == T3


def test_waived_findings_are_counted_apart(history_target, finding, result):
    with HistoryStore.open(history_target) as store:
        changes = store.record_run(
            result([finding("P-1", "corp", "u1", waived=True), finding("P-1", "corp", "u2")]),
            started_at=T1,
        )
        (waived,) = [r for r in store.findings() if r.waived]
    assert changes.run.waived == 1 and changes.run.open == 1
    assert waived.waiver_expires == "2027-01-01"


def test_runs_filtered_by_policy_and_since(history_target, finding, result):
    with HistoryStore.open(history_target) as store:
        store.record_run(
            result([finding("P-1", "corp", "u1"), finding("P-2", "corp", "u1")]), started_at=T1
        )
        store.record_run(result([finding("P-2", "corp", "u1")]), started_at=T2)
        p1 = store.runs(policy="P-1")
        assert [(r.open, r.resolved) for r in p1] == [(1, 0), (0, 1)]
        assert [r.id for r in store.runs(since="2026-11-02")] == [2]
        assert [r.id for r in store.runs(limit=1)] == [2]
        with pytest.raises(HistoryError, match="--since"):
            store.runs(since="yesterday")


def test_mean_time_to_remediate_per_severity(history_target, finding, result):
    crit = finding("P-1", "corp", "u1", "critical")
    low = finding("P-1", "corp", "u2", "low")
    with HistoryStore.open(history_target) as store:
        store.record_run(result([crit, low]), started_at=T1)
        store.record_run(result([low]), started_at=T2)  # critical fixed after 24 h
        store.record_run(result([]), started_at=T3)  # low fixed after 60 h
        times = {t.severity: t for t in store.remediation_times()}
    assert times["critical"].mean_hours == 24.0 and times["critical"].resolved == 1
    assert times["low"].mean_hours == 60.0
    assert times["high"].resolved == 0 and times["high"].mean_hours is None


def test_trend_is_oldest_first_plain_dicts(history_target, finding, result):
    with HistoryStore.open(history_target) as store:
        for at in (T1, T2, T3):
            store.record_run(result([finding("P-1", "corp", "u1")]), started_at=at)
        trend = store.trend(limit=2)
    assert [t["started_at"] for t in trend] == [T2, T3]
    assert trend[-1]["open"] == 1 and trend[-1]["by_severity"]["high"] == 1


def test_schema_is_versioned_and_migrations_run_in_order(tmp_path, monkeypatch):
    path = tmp_path / "h.db"
    with HistoryStore.open(path) as store:
        assert store.schema_version() == len(_schema.MIGRATIONS)
    known = len(_schema.MIGRATIONS)

    def v2(db: sqlite3.Connection) -> None:
        db.execute("ALTER TABLE runs ADD COLUMN note TEXT")

    monkeypatch.setattr(_schema, "MIGRATIONS", [*_schema.MIGRATIONS, v2])
    with HistoryStore.open(path) as store:
        assert store.schema_version() == known + 1
    cols = [r[1] for r in sqlite3.connect(path).execute("PRAGMA table_info(runs)")]
    assert "note" in cols


def test_failed_migration_leaves_the_file_unchanged(tmp_path, monkeypatch):
    path = tmp_path / "h.db"
    HistoryStore.open(path).close()

    def broken(db: sqlite3.Connection) -> None:
        db.execute("ALTER TABLE runs ADD COLUMN half TEXT")
        raise sqlite3.OperationalError("disk on fire")

    monkeypatch.setattr(_schema, "MIGRATIONS", [*_schema.MIGRATIONS, broken])
    with pytest.raises(HistoryError, match="disk on fire"):
        HistoryStore.open(path)
    db = sqlite3.connect(path)
    assert db.execute("SELECT version FROM schema_version").fetchone() == (
        len(_schema.MIGRATIONS) - 1,
    )
    assert "half" not in [r[1] for r in db.execute("PRAGMA table_info(runs)")]


def test_newer_schema_is_refused(tmp_path):
    path = tmp_path / "h.db"
    HistoryStore.open(path).close()
    sqlite3.connect(path, isolation_level=None).execute("UPDATE schema_version SET version = 99")
    with pytest.raises(HistoryError, match="newer"):
        HistoryStore.open(path)


def test_not_a_database_is_a_clean_error(tmp_path):
    path = tmp_path / "h.db"
    path.write_text("this is not sqlite, it is a text file with enough bytes in it" * 20)
    with pytest.raises(HistoryError, match="not a policyengine history database"):
        HistoryStore.open(path)


def test_correlated_person_findings_resolve_only_when_every_source_is_complete(
    history_target, finding, result
):
    from policyengine.engine.correlate import PERSON_SOURCE
    from policyengine.history._transitions import DERIVED_SOURCES

    assert PERSON_SOURCE in DERIVED_SOURCES
    person = finding("P-1", PERSON_SOURCE, "email:ann@example.com")
    with HistoryStore.open(history_target) as store:
        store.record_run(result([person]), started_at=T1)
        kept = store.record_run(result([], incomplete=["sf"]), started_at=T2)
        fixed = store.record_run(result([]), started_at=T3)
    assert (kept.run.resolved, kept.run.carried) == (0, 1)
    assert (fixed.run.resolved, fixed.run.carried) == (1, 0)
