import gzip

import orjson
import pytest

from policyengine.errors import SnapshotError
from policyengine.snapshot import SnapshotWriter, open_snapshot

RESOURCES = [
    {
        "kind": "account",
        "id": "u1",
        "name": "alice",
        "enabled": True,
        "last_login_at": "2026-10-01T10:00:00.000+0000",
    },
    {"kind": "group", "id": "g1", "name": "admins", "members": ["u1"], "privileged": True},
    {"kind": "credential", "id": "c1", "owner": "u1", "type": "api_token"},
]


@pytest.mark.parametrize("name", ["s.json", "s.jsonl", "s.json.gz", "s.jsonl.gz"])
def test_round_trip_in_every_encoding(tmp_path, name):
    path = tmp_path / name
    with SnapshotWriter(
        path, connector="okta", instance="okta-prod", collected_at="2026-11-01T00:00:00Z"
    ) as w:
        for r in RESOURCES:
            w.add(r)
    reader = open_snapshot(path)
    assert reader.source.complete is True
    records = list(reader.records())
    assert [r["id"] for r in records] == ["u1", "g1", "c1"]
    assert records[0]["source"] == "okta-prod" and records[0]["source_type"] == "okta"
    assert records[0]["last_login_at"] == "2026-10-01T10:00:00Z"  # normalised


def test_a_failing_collection_is_written_incomplete(tmp_path):
    path = tmp_path / "s.jsonl"
    with pytest.raises(RuntimeError), SnapshotWriter(path, connector="okta", instance="o") as w:
        w.add(RESOURCES[0])
        raise RuntimeError("connection reset on page 3")
    reader = open_snapshot(path)
    assert reader.source.complete is False
    assert "page 3" in reader.source.errors[0]
    assert len(list(reader.records())) == 1


def _jsonl(tmp_path, lines, name="bad.jsonl"):
    path = tmp_path / name
    path.write_bytes(b"\n".join(lines) + b"\n")
    return path


HEADER = b'{"snapshot_version":1,"source":{"connector":"ldap","instance":"ad","collected_at":"2026-11-01T00:00:00Z","complete":true}}'


@pytest.mark.parametrize(
    ("lines", "where", "text"),
    [
        ([HEADER, b'{"kind":"account","id":"u1","enabled":"yes"}'], ":2: record", None),
        (
            [HEADER, b'{"kind":"account","id":"u1"}', b'{"kind":"account","id":"u2","enab'],
            ":3:",
            "invalid JSON",
        ),
        ([HEADER, b'{"kind":"acount","id":"u1"}'], ":2:", "not a resource kind"),
        ([HEADER, b'{"kind":"account","id":"u1","name":"\xff\xfe"}'], ":2:", "UTF-8"),
        ([HEADER, b'{"kind":"account","id":"u1","created_at":"last tuesday"}'], ":2:", "ISO 8601"),
        ([b'{"snapshot_version":2,"source":{}}'], ":1:", "unsupported snapshot_version"),
    ],
)
def test_malformed_jsonl_names_file_line_and_field(tmp_path, lines, where, text):
    path = _jsonl(tmp_path, lines)
    with pytest.raises(SnapshotError) as err:
        list(open_snapshot(path).records())
    message = str(err.value)
    assert message.startswith(str(path))
    if where.endswith("record"):
        assert ":2:" in message or ":2 " in message or f"{path}:2" in message
        assert "field 'enabled'" in message
    else:
        assert where in message
    if text:
        assert text in message


def test_truncated_file_is_caught_by_the_record_count(tmp_path):
    path = tmp_path / "s.jsonl"
    with SnapshotWriter(path, connector="okta", instance="o") as w:
        for i in range(10):
            w.add({"kind": "account", "id": f"u{i}"})
    lines = path.read_bytes().splitlines(keepends=True)
    path.write_bytes(b"".join(lines[:6]))
    with pytest.raises(
        SnapshotError, match="truncated snapshot: the header says 10 records, the file has 5"
    ):
        list(open_snapshot(path).records())


def test_truncated_gzip_is_an_error_not_a_traceback(tmp_path):
    path = tmp_path / "s.jsonl.gz"
    with SnapshotWriter(path, connector="okta", instance="o") as w:
        for i in range(2000):
            w.add({"kind": "account", "id": f"u{i}", "name": f"user number {i}"})
    data = path.read_bytes()
    path.write_bytes(data[: len(data) // 2])
    with pytest.raises(SnapshotError, match="truncated"):
        list(open_snapshot(path).records())


def test_json_errors_name_the_list_index_and_field(tmp_path):
    path = tmp_path / "s.json"
    doc = {
        "snapshot_version": 1,
        "source": {
            "connector": "okta",
            "instance": "o",
            "collected_at": "2026-11-01T00:00:00Z",
            "complete": True,
        },
        "accounts": [{"id": "a"}, {"id": "b", "privileged": "true"}],
    }
    path.write_bytes(orjson.dumps(doc))
    with pytest.raises(SnapshotError) as err:
        list(open_snapshot(path).records())
    assert "record 1" in str(err.value) and "accounts[1].privileged" in str(err.value)


def test_gzip_json_is_read(tmp_path):
    path = tmp_path / "s.json.gz"
    doc = {
        "snapshot_version": 1,
        "source": {
            "connector": "okta",
            "instance": "o",
            "collected_at": "2026-11-01T00:00:00Z",
            "complete": True,
        },
        "accounts": [{"id": "a"}],
    }
    path.write_bytes(gzip.compress(orjson.dumps(doc)))
    assert [r["kind"] for r in open_snapshot(path).records()] == ["account"]


@pytest.mark.parametrize(
    ("line", "text"),
    [
        (b'{"kind":"account","id":"u1","last_login_at":"2099-99-99T99:99:99Z"}', "ISO 8601"),
        (b'{"kind":"person","id":"p1"}', "built by the engine"),
    ],
)
def test_implausible_timestamps_and_person_records_are_refused(tmp_path, line, text):
    path = _jsonl(tmp_path, [HEADER, line])
    with pytest.raises(SnapshotError, match=text):
        list(open_snapshot(path).records())


def test_duplicate_ids_are_refused(tmp_path):
    path = _jsonl(
        tmp_path, [HEADER, b'{"kind":"account","id":"u1"}', b'{"kind":"account","id":"u1"}']
    )
    with pytest.raises(SnapshotError) as err:
        list(open_snapshot(path).records())
    assert "S005" in str(err.value) and ":3" in str(err.value)


def test_reserved_instance_and_bad_counts_are_refused(tmp_path):
    bad = HEADER.replace(b'"instance":"ad"', b'"instance":"correlation"')
    with pytest.raises(SnapshotError, match="reserved"):
        open_snapshot(_jsonl(tmp_path, [bad], "a.jsonl"))
    bad = HEADER.replace(b'"complete":true', b'"complete":true,"counts":5')
    with pytest.raises(SnapshotError, match="counts"):
        open_snapshot(_jsonl(tmp_path, [bad], "b.jsonl"))
