"""The history database schema, as an ordered list of migrations.

Migration *n* (1-based) moves a database from schema version ``n - 1`` to
``n``. They run inside the caller's ``BEGIN IMMEDIATE`` transaction, so a
failed migration leaves the file as it was. Never edit a released migration:
append a new one.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Callable

Migration = Callable[[sqlite3.Connection], None]


def _v1_initial(db: sqlite3.Connection) -> None:
    """Runs, per-run counts, one row per finding, and the transitions between runs."""
    db.execute(
        """CREATE TABLE runs (
            id INTEGER PRIMARY KEY,
            started_at TEXT NOT NULL,     -- wall clock, ISO 8601 UTC
            finished_at TEXT NOT NULL,
            data_time TEXT NOT NULL,      -- Result.now: the snapshots' clock
            complete INTEGER NOT NULL,
            missing TEXT NOT NULL,        -- JSON list of incomplete source instances
            sources TEXT NOT NULL,        -- JSON list of SourceStatus dicts
            output_dir TEXT,
            open INTEGER NOT NULL,        -- active (not waived) findings after this run
            new INTEGER NOT NULL,
            resolved INTEGER NOT NULL,
            still_open INTEGER NOT NULL,
            carried INTEGER NOT NULL,     -- kept open because their source was not collected
            waived INTEGER NOT NULL
        )"""
    )
    db.execute(
        """CREATE TABLE run_counts (
            run_id INTEGER NOT NULL REFERENCES runs(id),
            policy_id TEXT NOT NULL,
            severity TEXT NOT NULL,
            source TEXT NOT NULL,
            open INTEGER NOT NULL DEFAULT 0,
            new INTEGER NOT NULL DEFAULT 0,
            resolved INTEGER NOT NULL DEFAULT 0,
            still_open INTEGER NOT NULL DEFAULT 0,
            carried INTEGER NOT NULL DEFAULT 0,
            waived INTEGER NOT NULL DEFAULT 0,
            PRIMARY KEY (run_id, policy_id, severity, source)
        )"""
    )
    db.execute(
        """CREATE TABLE findings (
            fingerprint TEXT PRIMARY KEY,
            policy_id TEXT NOT NULL,
            severity TEXT NOT NULL,
            title TEXT NOT NULL,
            kind TEXT NOT NULL,
            source TEXT NOT NULL,
            resource_id TEXT NOT NULL,
            resource_name TEXT NOT NULL,
            first_seen TEXT NOT NULL,     -- first run that ever saw it
            opened_at TEXT NOT NULL,      -- start of the current (or last) open period
            last_seen TEXT NOT NULL,
            resolved_at TEXT,             -- NULL while open
            first_run INTEGER NOT NULL,
            last_run INTEGER NOT NULL,
            resolved_run INTEGER,
            reopened INTEGER NOT NULL DEFAULT 0,
            waived INTEGER NOT NULL DEFAULT 0,
            waiver_expires TEXT
        )"""
    )
    db.execute("CREATE INDEX findings_open ON findings (resolved_at, source)")
    db.execute("CREATE INDEX findings_policy ON findings (policy_id)")
    db.execute(
        """CREATE TABLE events (
            run_id INTEGER NOT NULL REFERENCES runs(id),
            fingerprint TEXT NOT NULL REFERENCES findings(fingerprint),
            event TEXT NOT NULL           -- new, reopened, resolved, waived, unwaived
        )"""
    )
    db.execute("CREATE INDEX events_fingerprint ON events (fingerprint)")


def _v2_carried(db: sqlite3.Connection) -> None:
    """``carried``: open but not re-checked by the latest run, so ``last_seen`` is frozen.

    An open row with ``carried = 0`` was seen by the latest run: its last seen
    is that run, read from ``runs``, so a scan rewrites only the findings that
    changed. Rows v1 did not bump in the latest run were carried.
    """
    db.execute("ALTER TABLE findings ADD COLUMN carried INTEGER NOT NULL DEFAULT 0")
    db.execute(
        "UPDATE findings SET carried = 1 WHERE resolved_at IS NULL "
        "AND last_run < (SELECT MAX(id) FROM runs)"
    )


def _v3_actions(db: sqlite3.Connection) -> None:
    """``actions``: one row per remediation step ``remediate apply`` attempted.

    Written after each step in its own transaction, so an interrupted apply
    run again knows what is done (``plan_hash``, ``entry_id``, target).
    """
    db.execute(
        """CREATE TABLE actions (
            id INTEGER PRIMARY KEY,
            at TEXT NOT NULL,             -- wall clock, ISO 8601 UTC
            actor TEXT NOT NULL,          -- who ran apply (login name, or $POLICYENGINE_ACTOR)
            plan_hash TEXT NOT NULL,      -- sha256 of the approved plan file
            entry_id TEXT NOT NULL,
            policy_id TEXT NOT NULL,
            fingerprint TEXT NOT NULL,
            source TEXT NOT NULL,
            action TEXT NOT NULL,
            target_kind TEXT NOT NULL,
            target_id TEXT NOT NULL,
            target_name TEXT NOT NULL,
            result TEXT NOT NULL,         -- applied, unchanged, drift, refused, failed
            detail TEXT NOT NULL,
            before TEXT NOT NULL,         -- JSON facts read live before acting (or planned)
            after TEXT NOT NULL           -- JSON facts after acting ({} when nothing was done)
        )"""
    )
    db.execute("CREATE INDEX actions_plan ON actions (plan_hash, entry_id)")


#: Ordered; the schema version of a database is how many of these it has had.
MIGRATIONS: list[Migration] = [_v1_initial, _v2_carried, _v3_actions]


def table_names(db: sqlite3.Connection) -> set[str]:
    """The tables in ``db``: SQLite's catalogue, or the PostgreSQL adapter's schema."""
    tables = getattr(db, "tables", None)  # history._postgres.PostgresConnection
    if tables is not None:
        return set(tables())
    rows = db.execute(
        "SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite_%'"
    )
    return {row[0] for row in rows}


def current_version(db: sqlite3.Connection) -> int:
    """The schema version recorded in ``db`` (0 for a new, empty file).

    ``db`` is a ``sqlite3.Connection`` or, for PostgreSQL, the adapter in
    ``history._postgres`` that takes the same SQL: migrations are written once.
    """
    if "schema_version" not in table_names(db):
        return 0
    got = db.execute("SELECT version FROM schema_version").fetchone()
    return int(got[0]) if got else 0


def migrate(db: sqlite3.Connection, migrations: list[Migration] | None = None) -> int:
    """Apply the missing migrations in order; return the new version.

    The caller owns the transaction. Raises ``ValueError`` when the database
    is newer than this code knows.
    """
    steps = MIGRATIONS if migrations is None else migrations
    version = current_version(db)
    if version > len(steps):
        raise ValueError(
            f"schema version {version} is newer than this policyengine knows ({len(steps)}); "
            "upgrade policyengine"
        )
    if version == 0:
        db.execute("CREATE TABLE IF NOT EXISTS schema_version (version INTEGER NOT NULL)")
        db.execute("INSERT INTO schema_version (version) VALUES (0)")
    for number, step in enumerate(steps[version:], start=version + 1):
        step(db)
        db.execute("UPDATE schema_version SET version = ?", (number,))
    return len(steps)
