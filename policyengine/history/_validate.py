"""Is this SQLite file a policyengine history? Checked on open, before anything is written.

A file with tables of its own and no ``schema_version`` belongs to someone
else: migrating it would add our tables to their database. A history missing
one of our tables (dropped by hand, a half-restored backup) would fail later
with a bare ``no such table``. Both are refused with a message naming what is
wrong. Each raises ``ValueError`` (:class:`DamagedHistory` for a row); the
store turns it into a HistoryError naming the file.
"""

from __future__ import annotations

import functools
import json
import sqlite3
from typing import Any

from policyengine.history._errors import DamagedHistory
from policyengine.history._schema import MIGRATIONS, migrate, table_names

_NOT_OURS = "not a policyengine history database"


def refuse_foreign(db: sqlite3.Connection) -> None:
    """Raise when ``db`` has tables but none of them is our ``schema_version``."""
    tables = _tables(db)
    if tables and "schema_version" not in tables:
        shown = ", ".join(sorted(tables)[:5])
        raise ValueError(f"{_NOT_OURS} (it has tables {shown} and no schema_version)")


def check_tables(db: sqlite3.Connection) -> None:
    """Raise when a table the current schema defines is missing from ``db``."""
    missing = sorted(_expected_tables() - _tables(db))
    if missing:
        raise ValueError(
            f"damaged history database: table {', '.join(missing)} is missing "
            "(restore a backup, or move the file away to start a new history)"
        )


def json_column(text: Any, *, run_id: int, column: str) -> Any:
    """A JSON value stored in ``runs``; a row that does not parse names its run and column."""
    try:
        return json.loads(text)
    except (TypeError, ValueError):
        raise DamagedHistory(
            f"damaged history database: run {run_id}, column {column!r} is not valid JSON"
        ) from None


def _tables(db: sqlite3.Connection) -> set[str]:
    return table_names(db)


@functools.cache
def _expected_tables(version: int = len(MIGRATIONS)) -> frozenset[str]:
    """The tables a fresh database has after every migration (derived, never listed twice)."""
    fresh = sqlite3.connect(":memory:")
    try:
        migrate(fresh, MIGRATIONS[:version])
        return frozenset(_tables(fresh))
    finally:
        fresh.close()
