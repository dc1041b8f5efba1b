"""A scan's hold on its history: the lock for the whole scan, then the open store.

A SQLite file is locked with :class:`ScanLock` on ``<db>.lock`` before it is
opened; a PostgreSQL history with a session advisory lock on its schema, taken
on the store's own connection (released when the scan ends or its connection
drops, even when the process is killed).
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from policyengine.history._lock import ScanLock, lock_path_for
from policyengine.history._store import HistoryStore
from policyengine.history._target import HistoryTarget, PostgresHistory


@contextmanager
def scan_history(target: HistoryTarget, *, lock_timeout: float = 0.0) -> Iterator[HistoryStore]:
    """Hold ``target`` for one scan (waiting up to ``lock_timeout`` s) and yield its store."""
    if isinstance(target, PostgresHistory):
        with HistoryStore.open(target) as store, store.scan_lock(lock_timeout):
            yield store
        return
    path = Path(target)
    with ScanLock(lock_path_for(path), timeout=lock_timeout), HistoryStore.open(path) as store:
        yield store
