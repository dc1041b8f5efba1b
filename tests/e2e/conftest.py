"""Shared helpers for the end-to-end tests: run the CLI and git in a temp repository."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

PROJECT = Path(__file__).resolve().parents[2]
EXAMPLE = PROJECT / "examples" / "access-as-code"


def pytest_configure(config: pytest.Config) -> None:
    config.addinivalue_line(
        "markers", "slow: takes more than ~30 s (pre-commit installs the project from PyPI)"
    )


def run(*cmd: str | os.PathLike[str], cwd: Path, env: dict[str, str] | None = None):
    """Run a command; return the CompletedProcess (text), never raising on exit status."""
    base = {**os.environ, "NO_COLOR": "1", "GIT_CONFIG_NOSYSTEM": "1"}
    return subprocess.run(
        [str(c) for c in cmd],
        cwd=cwd,
        env={**base, **(env or {})},
        capture_output=True,
        text=True,
        timeout=600,
    )


def policyengine(*args: str | os.PathLike[str], cwd: Path):
    return run(sys.executable, "-m", "policyengine", *args, cwd=cwd)


def git(*args: str, cwd: Path) -> str:
    done = run(
        "git",
        "-c",
        "user.name=Policy Test",
        "-c",
        "user.email=policy-test@example.invalid",
        "-c",
        "init.defaultBranch=main",
        "-c",
        "commit.gpgsign=false",
        *args,
        cwd=cwd,
    )
    assert done.returncode == 0, f"git {' '.join(args)} failed:\n{done.stdout}\n{done.stderr}"
    return done.stdout.strip()


def make_repo(path: Path) -> Path:
    """A git repository holding a copy of the example access-as-code repository."""
    shutil.copytree(EXAMPLE, path)
    git("init", "-q", cwd=path)
    git("add", "-A", cwd=path)
    git("commit", "-q", "-m", "baseline: access as code", cwd=path)
    return path
