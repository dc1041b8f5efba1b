"""``collect`` on a full disk: one line saying nothing was written, no spool left behind."""

from __future__ import annotations

import os
import subprocess
from collections.abc import Iterator
from pathlib import Path

import pytest

from policyengine.cli.main import main


@pytest.fixture
def tiny_disk(tmp_path: Path) -> Iterator[Path]:
    """A 64 KiB tmpfs. Skipped only off CI when mounting is not permitted."""
    folder = tmp_path / "tiny"
    folder.mkdir()
    done = subprocess.run(
        ["mount", "-t", "tmpfs", "-o", "size=64k", "tmpfs", str(folder)],
        capture_output=True,
        text=True,
        check=False,
    )
    if done.returncode != 0:
        if os.environ.get("CI"):
            pytest.fail(f"cannot mount a tmpfs for the full-disk test: {done.stderr.strip()}")
        pytest.skip(f"mounting a tmpfs is not permitted here: {done.stderr.strip()}")
    try:
        yield folder
    finally:
        subprocess.run(["umount", str(folder)], check=False)


def _access_repo(tmp_path: Path, accounts: int) -> Path:
    folder = tmp_path / "access"
    folder.mkdir()
    lines = ["accounts:"]
    for i in range(accounts):
        lines += [f"  - id: user{i:05d}", f"    description: {'x' * 200}"]
    (folder / "people.yaml").write_text("\n".join(lines) + "\n")
    return folder


def test_collect_on_a_full_disk_says_nothing_was_written(
    tmp_path: Path, tiny_disk: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    access = _access_repo(tmp_path, 2000)  # ~500 KiB of records for a 64 KiB disk
    target = tiny_disk / "access.jsonl"
    code = main(["collect", "file", "--path", str(access), "-o", str(target)])
    err = capsys.readouterr().err
    assert code == 2, err
    assert "nothing was written" in err
    assert "No space left on device" in err
    assert "INCOMPLETE" not in err
    assert list(tiny_disk.iterdir()) == []  # no snapshot, no .spool-*, no .tmp-*


def test_collect_to_dev_full_reports_the_write_error(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    access = _access_repo(tmp_path, 3)
    code = main(["collect", "file", "--path", str(access), "-o", "/dev/full"])
    err = capsys.readouterr().err
    assert code == 2, err
    assert "/dev/full: cannot write the snapshot" in err and "nothing was written" in err
    assert not list(Path("/dev").glob(".spool-*"))
