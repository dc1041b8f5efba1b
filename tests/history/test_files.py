"""The history database and its lock: created 0600, never through a planted symlink."""

from __future__ import annotations

import os
import stat
from pathlib import Path

import pytest

from policyengine.cli.main import main
from policyengine.history import HistoryError, HistoryStore, ScanLock, lock_path_for
from tests.policies import MFA_POLICY


def _demo_scan(tmp_path: Path, history: Path) -> int:
    """A demo scan with one small policy (independent of the built-in library)."""
    policy = tmp_path / "mfa.yaml"
    policy.write_text(MFA_POLICY)
    out = tmp_path / "runs"
    return main(
        [
            "scan",
            "--demo",
            "--policies",
            str(policy),
            "--history",
            str(history),
            "--output-dir",
            str(out),
        ]
    )


def _mode(path: Path) -> int:
    return stat.S_IMODE(os.stat(path).st_mode)


def test_lock_symlink_is_refused_and_its_target_kept(tmp_path: Path) -> None:
    victim = tmp_path / "victim"
    victim.write_text("precious\n")
    lock = tmp_path / "h.db.lock"
    lock.symlink_to(victim)
    with pytest.raises(HistoryError, match="symbolic link"), ScanLock(lock):
        pass
    assert victim.read_text() == "precious\n"


def test_scan_with_symlinked_lock_exits_2_and_keeps_the_target(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    victim = tmp_path / "victim"
    victim.write_text("precious\n")
    history = tmp_path / "h.db"
    lock_path_for(history).symlink_to(victim)
    code = _demo_scan(tmp_path, history)
    assert code == 2
    assert victim.read_text() == "precious\n"
    err = capsys.readouterr().err
    assert "h.db.lock" in err and "symbolic link" in err


def test_history_symlink_is_refused(tmp_path: Path) -> None:
    victim = tmp_path / "victim"
    victim.write_text("precious\n")
    history = tmp_path / "h.db"
    history.symlink_to(victim)
    with pytest.raises(HistoryError, match="symbolic link"):
        HistoryStore.open(history)
    assert victim.read_text() == "precious\n"


def test_lock_that_is_a_fifo_is_refused_without_blocking(tmp_path: Path) -> None:
    lock = tmp_path / "h.db.lock"
    os.mkfifo(lock)
    with pytest.raises(HistoryError, match="not a regular file"), ScanLock(lock):
        pass


def test_history_and_lock_are_private(tmp_path: Path) -> None:
    history = tmp_path / "h.db"
    with ScanLock(lock_path_for(history)), HistoryStore.open(history):
        pass
    assert _mode(history) == 0o600
    assert _mode(lock_path_for(history)) == 0o600


def test_demo_scan_writes_private_files(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    history = tmp_path / "h.db"
    out = tmp_path / "runs"
    assert _demo_scan(tmp_path, history) in (0, 1)
    written = [p for p in out.rglob("*") if p.is_file()]
    assert any(p.parent.name == "snapshots" for p in written)
    for path in [history, lock_path_for(history), *written]:
        assert _mode(path) == 0o600, path
    for folder in [p for p in out.rglob("*") if p.is_dir()]:
        assert _mode(folder) == 0o700, folder
