"""Shared fixtures: writing policies and snapshots into a temporary folder."""

from __future__ import annotations

import os
import textwrap
from collections.abc import Callable, Iterable, Mapping
from pathlib import Path
from typing import Any

import pytest

from policyengine.snapshot import SnapshotWriter

NOW = "2026-11-01T00:00:00Z"

# Every SnapshotWriter in the suite (connectors' collection tests included, and the
# subprocesses they start) refuses a record outside the model: this is what proves no
# connector writes a field the model lacks. Tests of the lenient default pass strict=False.
os.environ["POLICYENGINE_STRICT_MODEL"] = "1"


@pytest.fixture
def write_policy(tmp_path: Path) -> Callable[..., Path]:
    """Write YAML text (dedented) to a policy file and return its path."""

    def write(text: str, name: str = "policy.yaml") -> Path:
        path = tmp_path / "policies" / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(textwrap.dedent(text), encoding="utf-8")
        return path

    return write


@pytest.fixture
def write_snapshot(tmp_path: Path) -> Callable[..., Path]:
    """Write resources to a snapshot with SnapshotWriter and return its path."""

    def write(
        resources: Iterable[Mapping[str, Any]],
        name: str = "snap.jsonl",
        *,
        connector: str = "okta",
        instance: str | None = None,
        collected_at: str = NOW,
        error: str | None = None,
        strict: bool | None = None,
    ) -> Path:
        """``strict=False``: a record outside the model on purpose (for the reader to refuse)."""
        path = tmp_path / "snapshots" / name
        with SnapshotWriter(
            path,
            connector=connector,
            instance=instance or path.name.split(".")[0],
            collected_at=collected_at,
            strict=strict,
        ) as writer:
            for resource in resources:
                writer.add(resource)
            if error:
                writer.fail(error)
        return path

    return write


@pytest.fixture(autouse=True)
def _reset_structlog():
    """Each test starts with structlog's defaults, whatever an earlier CLI call configured."""
    import structlog

    yield
    structlog.reset_defaults()


@pytest.fixture(autouse=True)
def _private_lint_cache(tmp_path_factory, monkeypatch):
    """Tests never read or write the user's lint cache."""
    monkeypatch.setenv("POLICYENGINE_CACHE_DIR", str(tmp_path_factory.mktemp("cache")))


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_makereport(item: pytest.Item, call: pytest.CallInfo[None]):
    """Under CI a skip is a failure: every service the tests need must be provisioned there.

    Locally a missing slapd, Samba AD DC or Chromium skips its tests, saying why; a CI machine
    that cannot provide one must fail loudly, with the reason, instead of passing quietly.
    """
    outcome = yield
    report = outcome.get_result()
    if not (os.environ.get("CI") and report.skipped) or hasattr(report, "wasxfail"):
        return
    reason = report.longrepr[2] if isinstance(report.longrepr, tuple) else str(report.longrepr)
    report.outcome = "failed"
    report.longrepr = (
        f"skipped under CI, where every test must run: {reason.removeprefix('Skipped: ')}"
    )
