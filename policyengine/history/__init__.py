"""Scan history: runs, each finding's first seen / last seen / resolved, trends.

SQLite by default (one file; schema versioned with ordered migrations), or a
schema in PostgreSQL for a fleet of scanners (:class:`PostgresHistory`, the
same migrations). Use :class:`HistoryStore` for the data and
:func:`scan_history` to keep two scans of one history from interleaving::

    with scan_history(db) as store:
        changes = store.record_run(result, started_at="2026-11-01T06:00:00Z")
"""

from policyengine.history._errors import HistoryError, HistoryLockedError
from policyengine.history._lock import ScanLock, lock_path_for
from policyengine.history._session import scan_history
from policyengine.history._store import (
    FindingRecord,
    HistoryStore,
    RemediationTime,
    RunChanges,
    RunRecord,
    normalise_since,
)
from policyengine.history._target import HistoryTarget, PostgresHistory, parse_history

__all__ = [
    "FindingRecord",
    "HistoryError",
    "HistoryLockedError",
    "HistoryStore",
    "HistoryTarget",
    "PostgresHistory",
    "RemediationTime",
    "RunChanges",
    "RunRecord",
    "ScanLock",
    "lock_path_for",
    "normalise_since",
    "parse_history",
    "scan_history",
]
