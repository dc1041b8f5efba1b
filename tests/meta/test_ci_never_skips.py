"""Under CI a test that would skip fails instead, with the reason, so a machine that cannot
provision slapd, Samba AD or Chromium can never report green."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]

SAMPLE = """
import pytest

def test_needs_a_service():
    pytest.skip("samba-tool not installed")

@pytest.mark.skipif(True, reason="chromium not installed")
def test_marked():
    pass

@pytest.mark.xfail(reason="known", strict=False)
def test_expected_failure():
    assert False
"""


def _run(tmp_path: Path, ci: str | None) -> subprocess.CompletedProcess[str]:
    test_file = tmp_path / "test_sample.py"
    test_file.write_text(SAMPLE, encoding="utf-8")
    env = {k: v for k, v in os.environ.items() if k != "CI"}
    if ci is not None:
        env["CI"] = ci
    return subprocess.run(
        [sys.executable, "-m", "pytest", "-q", "-p", "tests.conftest", "-p", "no:cacheprovider",
         "--rootdir", str(tmp_path), str(test_file)],
        cwd=REPO, env=env, capture_output=True, text=True, timeout=120,
    )  # fmt: skip


def test_a_skip_fails_under_ci_and_names_its_reason(tmp_path: Path) -> None:
    proc = _run(tmp_path, "true")
    assert proc.returncode == 1, proc.stdout + proc.stderr
    # a skip in the test body fails it; a skip marker fails its setup (an error): both are red
    assert "1 failed" in proc.stdout and "1 error" in proc.stdout, proc.stdout
    assert "1 xfailed" in proc.stdout and "skipped" not in proc.stdout.splitlines()[-1]
    assert "skipped under CI, where every test must run: samba-tool not installed" in proc.stdout
    assert "chromium not installed" in proc.stdout


def test_a_skip_stays_a_skip_outside_ci(tmp_path: Path) -> None:
    proc = _run(tmp_path, None)
    assert proc.returncode == 0, proc.stdout + proc.stderr
    assert "2 skipped" in proc.stdout and "1 xfailed" in proc.stdout, proc.stdout
