"""SnapshotWriter holds every record to the model table and stamps source and source_type."""

from __future__ import annotations

import io
import json
from pathlib import Path

import pytest

from policyengine import log
from policyengine.snapshot.writer import ModelViolation, SnapshotWriter


def _records(path: Path) -> list[dict]:
    return [json.loads(line) for line in path.read_text().splitlines()[1:]]


def test_source_and_source_type_are_stamped_by_the_writer(tmp_path: Path) -> None:
    out = tmp_path / "corp.jsonl"
    with SnapshotWriter(out, connector="ldap", instance="corp") as w:
        w.add({"kind": "account", "id": "u1", "name": "alice"})
    assert _records(out) == [
        {"kind": "account", "id": "u1", "name": "alice", "source": "corp", "source_type": "ldap"}
    ]


def test_timestamps_are_written_in_the_model_form(tmp_path: Path) -> None:
    out = tmp_path / "corp.jsonl"
    with SnapshotWriter(out, connector="ldap", instance="corp") as w:
        w.add({"kind": "account", "id": "u1", "locked_at": "2026-01-05T12:00:00.5+02:00"})
    assert _records(out)[0]["locked_at"] == "2026-01-05T10:00:00Z"


@pytest.mark.parametrize(
    ("record", "field"),
    [
        ({"kind": "account", "id": "u1", "lockedAt": "2026-01-01T00:00:00Z"}, "lockedAt"),
        ({"kind": "account", "id": "u1", "enabled": "yes"}, "enabled"),
        ({"kind": "credential", "id": "c1", "expires_at": "soon"}, "expires_at"),
    ],
)
def test_strict_writer_refuses_a_record_outside_the_model(
    tmp_path: Path, record: dict, field: str
) -> None:
    w = SnapshotWriter(tmp_path / "x.jsonl", connector="okta", instance="corp", strict=True)
    with pytest.raises(ModelViolation, match=rf"connector okta .*{field}") as caught:
        w.add(record)
    w.discard()
    assert str(caught.value).count("\n") == 0


def test_the_test_suite_runs_every_writer_strict(tmp_path: Path) -> None:
    w = SnapshotWriter(tmp_path / "x.jsonl", connector="okta", instance="corp")
    try:
        assert w.strict
    finally:
        w.discard()


def test_lenient_writer_warns_once_per_field_naming_connector_and_field(tmp_path: Path) -> None:
    stream = io.StringIO()
    log.configure("json", "info", stream=stream)
    out = tmp_path / "x.jsonl"
    with SnapshotWriter(out, connector="okta", instance="corp", strict=False) as w:
        w.add({"kind": "account", "id": "u1", "colour": "red"})
        w.add({"kind": "account", "id": "u2", "colour": "blue"})
    events = [json.loads(line) for line in stream.getvalue().splitlines()]
    warned = [e for e in events if e.get("event") == "snapshot.model"]
    assert [(e["connector"], e["kind"], e["field"]) for e in warned] == [
        ("okta", "account", "colour")
    ]
    assert [r["colour"] for r in _records(out)] == ["red", "blue"]
    assert json.loads(out.read_text().splitlines()[0])["source"]["complete"] is True
