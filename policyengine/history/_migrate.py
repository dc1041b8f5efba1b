"""``policyengine history migrate --to postgresql://...``: copy a SQLite history into PostgreSQL.

Both sides are brought to the current schema first (the same migrations), so
every table — whatever later migrations added — is copied column for column,
parents before children, in one PostgreSQL transaction: a failed copy leaves
the target empty. The target must hold no runs yet (copying twice would
duplicate nothing but would mix two histories); the source is locked like a
scan so no scan writes to it meanwhile, and it is never modified beyond its
own schema migrations.
"""

from __future__ import annotations

import sqlite3
from dataclasses import dataclass
from pathlib import Path

from policyengine.history._errors import HistoryError
from policyengine.history._session import scan_history
from policyengine.history._store import HistoryStore
from policyengine.history._target import PostgresHistory


@dataclass(frozen=True, slots=True)
class MigrationReport:
    """Rows copied per table, in copy order."""

    source: Path
    target: PostgresHistory
    rows: tuple[tuple[str, int], ...]


def migrate_history(
    source: Path, target: PostgresHistory, *, lock_timeout: float = 0.0
) -> MigrationReport:
    """Copy every row of the SQLite history ``source`` into the empty history ``target``."""
    if not source.is_file():
        raise HistoryError(
            "no scan history to migrate (run `policyengine scan` first)", path=source
        )
    with (
        scan_history(source, lock_timeout=lock_timeout) as src,
        scan_history(target, lock_timeout=lock_timeout) as dst,
    ):
        already = dst._db.execute("SELECT COUNT(*) FROM runs").fetchone()[0]
        if already:
            raise HistoryError(
                f"{target} already holds {already} run{'s' if already != 1 else ''}; "
                "migrate into an empty schema (another ?schema=NAME) or drop this one first"
            )
        copied = _copy(src, dst)
    return MigrationReport(source, target, copied)


def _copy(src: HistoryStore, dst: HistoryStore) -> tuple[tuple[str, int], ...]:
    lite: sqlite3.Connection = src._db
    out = []
    with dst._write() as pg:
        for table in _parents_first(lite):
            columns = [row[1] for row in lite.execute(f'PRAGMA table_info("{table}")')]
            names = ", ".join(columns)
            rows = lite.execute(f"SELECT {names} FROM {table}")
            pg.copy_rows(table, columns, rows)  # type: ignore[attr-defined]
            got = pg.execute(f"SELECT COUNT(*) FROM {table}").fetchone()[0]
            want = lite.execute(f"SELECT COUNT(*) FROM {table}").fetchone()[0]
            if got != want:  # pragma: no cover - COPY either copies all or raises
                raise HistoryError(f"{dst.target}: copied {got} of {want} rows of {table}")
            if "id" in columns:  # identity columns go on numbering after the copied ids
                pg.execute(
                    "SELECT setval(pg_get_serial_sequence(?, 'id'), MAX(id)) FROM "
                    f"{table} HAVING MAX(id) IS NOT NULL AND "
                    "pg_get_serial_sequence(?, 'id') IS NOT NULL",
                    (table, table),
                )
            out.append((table, int(got)))
    return tuple(out)


def _parents_first(db: sqlite3.Connection) -> list[str]:
    """Our tables (not schema_version, which each side keeps) ordered so references resolve."""
    tables = sorted(
        r[0]
        for r in db.execute(
            "SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite_%'"
        )
        if r[0] != "schema_version"
    )
    parents = {
        t: {r[2] for r in db.execute(f'PRAGMA foreign_key_list("{t}")') if r[2] != t}
        for t in tables
    }
    ordered: list[str] = []
    while len(ordered) < len(tables):
        ready = [t for t in tables if t not in ordered and parents[t] <= set(ordered)]
        if not ready:  # a cycle: cannot happen with our schema; copy the rest as they are
            ready = [t for t in tables if t not in ordered]
        ordered.extend(ready)
    return ordered
