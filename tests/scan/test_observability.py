"""Structured log events per connector (start, finish, retry) and the terminal progress line."""

from __future__ import annotations

import io
import json

import pytest
import structlog

from policyengine import log
from policyengine.scan import InstanceSpec, Progress, collect_all


@pytest.fixture
def events():
    buf = io.StringIO()
    log.configure("json", "info", stream=buf)
    yield lambda: [json.loads(line) for line in buf.getvalue().splitlines()]
    structlog.reset_defaults()


def test_connector_start_finish_and_retry_are_logged_with_counts(tmp_path, events):
    good = tmp_path / "access.yaml"
    good.write_text("accounts:\n  - {id: u1, name: u1, enabled: true, type: human}\n")
    specs = [
        InstanceSpec("access", "file", {"path": [str(good)]}),
        InstanceSpec("broken", "file", {"path": [str(tmp_path / "missing.yaml")]}),
    ]
    out = collect_all(specs, tmp_path / "snaps", max_workers=2, retries=2)
    assert [c.status.complete for c in out] == [True, False]
    assert out[1].attempts == 3 and out[1].path is None
    seen = events()
    names = [(e["event"], e.get("instance")) for e in seen]
    assert ("connector.start", "access") in names and ("connector.finish", "access") in names
    retries = [e for e in seen if e["event"] == "connector.retry"]
    assert [e["attempt"] for e in retries] == [2, 3] and retries[0]["instance"] == "broken"
    done = {e["instance"]: e for e in seen if e["event"] == "scan.instance"}
    assert done["access"]["resources"] == 1 and done["access"]["complete"] is True
    assert done["broken"]["complete"] is False and "seconds" in done["broken"]


def test_progress_line_redraws_in_place_on_a_terminal():
    buf = io.StringIO()
    p = Progress(2, stream=buf, enabled=True)
    p.started("corp")
    p.finished("corp", "done (3 resources, 0.1s)")
    p.close()
    text = buf.getvalue()
    assert "\r[0/2] collecting corp ..." in text and "\r[1/2] corp: done" in text
    assert "\n" not in text


def test_progress_is_silent_off_a_terminal():
    buf = io.StringIO()
    p = Progress(1, stream=buf)
    p.started("corp")
    p.close()
    assert buf.getvalue() == ""
