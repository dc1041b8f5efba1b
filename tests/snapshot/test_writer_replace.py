"""SnapshotWriter.add(replace=True): a later state of the same resource supersedes the earlier."""

from __future__ import annotations

from pathlib import Path

import pytest

from policyengine.snapshot import SnapshotWriter, open_snapshot


@pytest.mark.parametrize("name", ["s.json", "s.jsonl", "s.json.gz", "s.jsonl.gz"])
def test_replace_keeps_only_the_last_state(tmp_path: Path, name: str) -> None:
    path = tmp_path / name
    with SnapshotWriter(path, connector="okta", instance="o") as w:
        assert w.add({"kind": "account", "id": "u1", "status": "ACTIVE"}) is False
        w.add({"kind": "group", "id": "u1", "name": "same id, other kind"})
        w.add({"kind": "account", "id": "u2", "status": "ACTIVE"})
        assert w.add({"kind": "account", "id": "u1", "status": "SUSPENDED"}, replace=True)
        assert w.add({"kind": "account", "id": "u1", "status": "DEPROVISIONED"}, replace=True)
    reader = open_snapshot(path)
    records = list(reader.records())
    assert [(r["kind"], r["id"], r.get("status")) for r in records if r["kind"] == "account"] == [
        ("account", "u2", "ACTIVE"),
        ("account", "u1", "DEPROVISIONED"),
    ]
    assert len(records) == 3  # the record count in the header matches (no truncation error)


def test_a_duplicate_without_replace_is_still_an_error(tmp_path: Path) -> None:
    with SnapshotWriter(tmp_path / "s.jsonl", connector="okta", instance="o") as w:
        w.add({"kind": "account", "id": "u1"})
        with pytest.raises(ValueError, match="duplicate account id 'u1'"):
            w.add({"kind": "account", "id": "u1"})
