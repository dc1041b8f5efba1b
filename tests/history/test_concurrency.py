"""Two processes on one history: scans take turns, writes never corrupt the file."""

from __future__ import annotations

import sqlite3
import subprocess
import sys
import textwrap
import time

import pytest

from policyengine.history import HistoryLockedError, HistoryStore, ScanLock, lock_path_for

HOLD = textwrap.dedent(
    """
    import sys, time
    from pathlib import Path
    from policyengine.history import ScanLock
    with ScanLock(Path(sys.argv[1])):
        print("held", flush=True)
        time.sleep(float(sys.argv[2]))
    """
)

WRITE = textwrap.dedent(
    """
    import sys
    from pathlib import Path
    from policyengine.findings.model import Finding, ResourceRef, Result, SourceStatus, fingerprint
    from policyengine.history import HistoryStore
    tag, n = sys.argv[2], int(sys.argv[3])
    for i in range(n):
        fs = tuple(
            Finding("P-1", "high", "t", ResourceRef("account", "corp", f"{tag}{j}", "x"), "m",
                    (), "r", {}, fingerprint("P-1", "account", "corp", f"{tag}{j}"))
            for j in range(i % 7)
        )
        result = Result(fs, (), (SourceStatus("file", "corp", "2026-11-01T00:00:00Z", True),),
                        "2026-11-01T00:00:00Z")
        with HistoryStore.open(Path(sys.argv[1]), busy_timeout=60) as store:
            store.record_run(result, started_at=f"2026-11-01T00:00:{i:02d}Z")
    """
)


def _hold(lock, seconds: float) -> subprocess.Popen[str]:
    proc = subprocess.Popen(
        [sys.executable, "-c", HOLD, str(lock), str(seconds)], stdout=subprocess.PIPE, text=True
    )
    assert proc.stdout is not None and proc.stdout.readline().strip() == "held"
    return proc


def test_second_scan_fails_cleanly_while_the_first_holds_the_lock(tmp_path):
    lock = lock_path_for(tmp_path / "history.db")
    holder = _hold(lock, 5)
    try:
        with (
            pytest.raises(HistoryLockedError, match=rf"pid {holder.pid} .*--lock-timeout"),
            ScanLock(lock, timeout=0.2),
        ):
            pass
    finally:
        holder.kill()
        holder.wait()
    with ScanLock(lock, timeout=0):  # the kernel released it when the holder died
        pass


def test_second_scan_waits_for_the_first_when_given_a_timeout(tmp_path):
    lock = lock_path_for(tmp_path / "history.db")
    holder = _hold(lock, 0.8)
    started = time.monotonic()
    with ScanLock(lock, timeout=20):
        waited = time.monotonic() - started
    holder.wait()
    assert 0.3 < waited < 20


def test_two_processes_writing_at_once_never_corrupt(tmp_path):
    db = tmp_path / "history.db"
    HistoryStore.open(db).close()  # create once so both start from the same schema
    procs = [
        subprocess.Popen([sys.executable, "-c", WRITE, str(db), tag, "15"]) for tag in ("a", "b")
    ]
    assert [p.wait(timeout=120) for p in procs] == [0, 0]
    conn = sqlite3.connect(db)
    assert conn.execute("PRAGMA integrity_check").fetchone() == ("ok",)
    assert conn.execute("SELECT COUNT(*) FROM runs").fetchone() == (30,)
    # Every run's counts add up: findings open = new + still open + carried.
    with HistoryStore.open(db) as store:
        for run in store.runs():
            assert run.open == run.new + run.still_open + run.carried
