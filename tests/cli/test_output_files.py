"""Every file the tool writes: no symlink following, devices and FIFOs written in place, 0600.

Never write to the real ``/dev/null`` through a path under test: the device tests
use a FIFO made in ``tmp_path``; the one ``/dev/null`` test checks afterwards that
it is still a character device.
"""

from __future__ import annotations

import os
import stat
import threading
from pathlib import Path

import pytest

from policyengine.cli.main import main
from policyengine.errors import UsageError
from policyengine.fsutil import atomic_write_text, copy_file
from policyengine.snapshot import SnapshotWriter
from tests.policies import MFA_POLICY


def _policy(tmp_path: Path) -> str:
    """One small policy: these tests are about files, not the built-in library."""
    path = tmp_path / "mfa.yaml"
    path.write_text(MFA_POLICY)
    return str(path)


def _read_fifo(fifo: Path, into: list[bytes]) -> threading.Thread:
    def read() -> None:
        with open(fifo, "rb") as handle:
            into.append(handle.read())

    thread = threading.Thread(target=read, daemon=True)
    thread.start()
    return thread


def test_fifo_target_is_written_into_not_replaced(tmp_path: Path) -> None:
    fifo = tmp_path / "out.fifo"
    os.mkfifo(fifo)
    got: list[bytes] = []
    reader = _read_fifo(fifo, got)
    atomic_write_text(fifo, "hello\n")
    reader.join(5)
    assert got == [b"hello\n"]
    assert stat.S_ISFIFO(os.lstat(fifo).st_mode)


def test_snapshot_writer_into_fifo_keeps_the_fifo(tmp_path: Path) -> None:
    fifo = tmp_path / "snap.jsonl"
    os.mkfifo(fifo)
    got: list[bytes] = []
    reader = _read_fifo(fifo, got)
    with SnapshotWriter(fifo, connector="okta", instance="o") as w:
        w.add({"kind": "account", "id": "u1", "name": "a"})
    reader.join(5)
    assert stat.S_ISFIFO(os.lstat(fifo).st_mode)
    assert b'"id":"u1"' in got[0]
    assert not [p for p in tmp_path.iterdir() if p.name.startswith(".")]


def test_evaluate_output_dev_null_stays_a_device(tmp_path: Path) -> None:
    assert stat.S_ISCHR(os.stat("/dev/null").st_mode)
    try:
        args = ["evaluate", "--demo", "--policies", _policy(tmp_path), "--format", "json"]
        code = main([*args, "--output", "/dev/null"])
        assert code in (0, 1)
    finally:
        mode = os.lstat("/dev/null").st_mode
        if not stat.S_ISCHR(mode):  # repair the machine before failing
            os.unlink("/dev/null")
            os.mknod("/dev/null", 0o666 | stat.S_IFCHR, os.makedev(1, 3))
            os.chmod("/dev/null", 0o666)
        assert stat.S_ISCHR(mode), "--output /dev/null replaced the device"


def test_symlinked_output_is_refused_and_target_untouched(tmp_path: Path) -> None:
    victim = tmp_path / "victim"
    victim.write_text("keep me")
    link = tmp_path / "report.json"
    link.symlink_to(victim)
    with pytest.raises(UsageError, match="symbolic link"):
        atomic_write_text(link, "x")
    assert victim.read_text() == "keep me"
    assert link.is_symlink()


def test_written_files_are_private(tmp_path: Path) -> None:
    report = tmp_path / "report.json"
    atomic_write_text(report, "{}")
    src = tmp_path / "src.json"
    src.write_text("{}")
    os.chmod(src, 0o644)
    copy = tmp_path / "copy.json"
    copy_file(src, copy)
    snap = tmp_path / "s.jsonl.gz"
    with SnapshotWriter(snap, connector="okta", instance="o") as w:
        w.add({"kind": "account", "id": "u1", "name": "a"})
    for path in (report, copy, snap):
        assert stat.S_IMODE(os.stat(path).st_mode) == 0o600, path


def test_snapshot_writer_refuses_symlinked_target(tmp_path: Path) -> None:
    victim = tmp_path / "victim"
    victim.write_text("keep me")
    link = tmp_path / "snap.jsonl"
    link.symlink_to(victim)
    with pytest.raises(UsageError, match="symbolic link"):
        SnapshotWriter(link, connector="okta", instance="o")
    assert victim.read_text() == "keep me"
    assert not [p for p in tmp_path.iterdir() if p.name.startswith(".")]


def test_output_dev_stdout_goes_to_the_stream_and_keeps_the_link(tmp_path: Path) -> None:
    import subprocess
    import sys

    before = os.readlink("/dev/stdout")
    into = tmp_path / "captured.json"
    with open(into, "wb") as stdout:  # a regular file behind /dev/stdout: the risky case
        subprocess.run(
            [sys.executable, "-m", "policyengine", "evaluate", "--demo", "--format", "json",
             "--policies", _policy(tmp_path), "--output", "/dev/stdout"],
            stdout=stdout,
            check=False,
        )  # fmt: skip
    assert os.path.islink("/dev/stdout") and os.readlink("/dev/stdout") == before
    assert into.read_text().lstrip().startswith("{")
