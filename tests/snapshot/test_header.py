"""The snapshot header is read strictly: it decides whether a gate may pass at all."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from policyengine.cli.main import main
from policyengine.errors import SnapshotError
from policyengine.snapshot import open_snapshot

SOURCE = '"connector":"okta","instance":"okta","collected_at":"2026-11-01T00:00:00Z"'
ADMIN = (
    '{"kind":"account","id":"u1","name":"alice","enabled":true,"privileged":true,'
    '"mfa":{"methods":["fido2"]}}'
)
POLICY = """\
id: PE-T-001
title: Privileged accounts use a security key
severity: high
resource: account
description: d
rationale: r
match: {privileged: true}
require: {mfa.methods: {contains_any: [fido2]}}
remediation: Register a key for {name}.
"""


def jsonl(tmp_path: Path, header: str, *records: str) -> Path:
    path = tmp_path / "s.jsonl"
    path.write_text("\n".join((header, *records)) + "\n", encoding="utf-8")
    return path


def as_json_document(tmp_path: Path, header: str, *records: str) -> Path:
    """The same header as a JSON snapshot document (keys kept as written)."""
    body = header[:-1] + ',"accounts":[' + ",".join(records) + "]}"
    path = tmp_path / "s.json"
    path.write_text(body, encoding="utf-8")
    return path


def evaluate(tmp_path: Path, snap: Path, capsys: pytest.CaptureFixture[str]) -> tuple[int, str]:
    policy = tmp_path / "p.yaml"
    policy.write_text(POLICY, encoding="utf-8")
    code = main(["evaluate", "-s", str(snap), "--policies", str(policy), "--fail-on", "high"])
    return code, capsys.readouterr().err


@pytest.mark.parametrize("write", [jsonl, as_json_document])
def test_source_errors_make_a_snapshot_incomplete_whatever_complete_says(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], write
) -> None:
    header = '{"snapshot_version":1,"source":{' + SOURCE + ',"complete":true,'
    header += '"errors":["users page 3: HTTP 500"]},"record_count":1}'
    snap = write(tmp_path, header, ADMIN)
    assert open_snapshot(snap).source.complete is False
    code, _ = evaluate(tmp_path, snap, capsys)
    assert code == 3


@pytest.mark.parametrize("write", [jsonl, as_json_document])
@pytest.mark.parametrize(
    ("header", "key"),
    [
        (
            '{"snapshot_version":1,"source":{' + SOURCE + ',"complete":false,"complete":true}}',
            "source.complete",
        ),
        (
            '{"snapshot_version":1,"record_count":1,"record_count":5,'
            '"source":{' + SOURCE + ',"complete":true}}',
            "record_count",
        ),
        (
            '{"snapshot_version":1,"source":{' + SOURCE + ',"complete":false},'
            '"source":{' + SOURCE + ',"complete":true}}',
            "source",
        ),
    ],
)
def test_a_duplicated_header_key_is_refused(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], write, header: str, key: str
) -> None:
    snap = write(tmp_path, header, ADMIN)
    with pytest.raises(SnapshotError) as err:
        open_snapshot(snap)
    assert str(err.value).startswith(str(snap))
    assert f"field '{key}'" in str(err.value) and "more than once" in str(err.value)
    code, message = evaluate(tmp_path, snap, capsys)
    assert code == 2 and str(snap) in message


@pytest.mark.parametrize("write", [jsonl, as_json_document])
@pytest.mark.parametrize("count", ['"5"', "5.0", "1e30", "-1", "true", "null", "[1]"])
def test_record_count_must_be_a_non_negative_integer(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], write, count: str
) -> None:
    header = '{"snapshot_version":1,"source":{' + SOURCE + ',"complete":true},'
    header += f'"record_count":{count}' + "}"
    snap = write(tmp_path, header, ADMIN)
    if count == "null":  # an absent count: nothing to check against
        assert open_snapshot(snap).source.record_count is None
        return
    with pytest.raises(SnapshotError) as err:
        open_snapshot(snap)
    assert "field 'record_count'" in str(err.value) and "non-negative" in str(err.value)
    code, _ = evaluate(tmp_path, snap, capsys)
    assert code == 2


def test_a_valid_record_count_still_catches_truncation(tmp_path: Path) -> None:
    header = '{"snapshot_version":1,"source":{' + SOURCE + ',"complete":true},"record_count":2}'
    with pytest.raises(SnapshotError, match="truncated"):
        list(open_snapshot(jsonl(tmp_path, header, ADMIN)).records())


def test_errors_must_be_a_list(tmp_path: Path) -> None:
    header = '{"snapshot_version":1,"source":{' + SOURCE + ',"complete":true,"errors":{"a":1}}}'
    with pytest.raises(SnapshotError, match=r"field 'source\.errors'"):
        open_snapshot(jsonl(tmp_path, header, ADMIN))


def test_resources_may_reuse_header_key_names(tmp_path: Path) -> None:
    """The duplicate check is about the header, not about names inside resources."""
    raw = {"complete": True, "errors": [], "source": "x", "record_count": 1}
    record = json.dumps({**json.loads(ADMIN), "raw": raw})
    header = '{"snapshot_version":1,"source":{' + SOURCE + ',"complete":true},"record_count":1}'
    for write in (jsonl, as_json_document):
        reader = open_snapshot(write(tmp_path, header, record))
        assert [r["id"] for r in reader.records()] == ["u1"]


def test_collected_as_is_kept_and_an_older_header_without_it_reads(tmp_path: Path) -> None:
    header = '{"snapshot_version":1,"source":{' + SOURCE + ',"complete":true,'
    source = open_snapshot(jsonl(tmp_path, header + '"collected_as":["u1","alice"]}}', ADMIN))
    assert source.source.collected_as == ("alice", "u1")
    old = header[:-1] + "}}"
    assert open_snapshot(jsonl(tmp_path, old, ADMIN)).source.collected_as == ()


@pytest.mark.parametrize("value", ['"alice"', '[""]', "[1]", "{}"])
def test_a_malformed_collected_as_is_refused(tmp_path: Path, value: str) -> None:
    header = '{"snapshot_version":1,"source":{' + SOURCE + ',"complete":true,"collected_as":'
    with pytest.raises(SnapshotError) as caught:
        open_snapshot(jsonl(tmp_path, header + value + "}}", ADMIN))
    assert "source.collected_as" in str(caught.value)
