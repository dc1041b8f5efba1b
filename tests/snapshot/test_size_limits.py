"""Decompression bombs and endless lines are refused, naming the file, before memory runs out."""

from __future__ import annotations

import gzip
import json

import pytest

from policyengine.api import evaluate_snapshots, load_policy_set
from policyengine.cli.main import main
from policyengine.engine import stream
from policyengine.errors import SnapshotError, UsageError
from policyengine.snapshot import open_snapshot
from policyengine.snapshot.limits import current_limits

HEADER = json.dumps(
    {
        "snapshot_version": 1,
        "source": {
            "connector": "ldap",
            "instance": "ad",
            "collected_at": "2026-11-01T00:00:00Z",
            "complete": True,
        },
    }
).encode()
MIB = 1 << 20


def _bomb(path, head: bytes, mebibytes: int, tail: bytes) -> None:
    """``head``, ``mebibytes`` MiB of one letter, ``tail``: streamed, about 1 KB per MiB on disk."""
    chunk = b"a" * MIB
    with gzip.open(path, "wb", compresslevel=9) as handle:
        handle.write(head)
        for _ in range(mebibytes):
            handle.write(chunk)
        handle.write(tail)


def _record(i: int) -> bytes:
    return b'{"kind":"account","id":"u%d","name":"n%d","enabled":true}\n' % (i, i)


def test_a_json_gz_bomb_is_refused_naming_the_file(tmp_path, monkeypatch, capsys):
    # before: the whole document was decompressed (1 GiB -> 2.1 GB RSS, MemoryError)
    path = tmp_path / "bomb.json.gz"
    _bomb(path, HEADER[:-1] + b',"accounts":[{"id":"u1","name":"', 64, b'"}]}')
    assert path.stat().st_size < 200_000
    monkeypatch.setenv("POLICYENGINE_MAX_JSON_BYTES", "4M")
    code = main(["evaluate", "--snapshot", str(path)])
    err = capsys.readouterr().err
    assert code == 2
    assert f"{path}: S001 the data expands to more than 4 MiB" in err
    assert "POLICYENGINE_MAX_JSON_BYTES" in err and "internal error" not in err


def test_one_endless_jsonl_line_is_refused_with_its_line_number(tmp_path, monkeypatch):
    path = tmp_path / "bomb.jsonl.gz"
    _bomb(path, HEADER + b'\n{"kind":"account","id":"u1","name":"', 64, b'"}\n')
    monkeypatch.setenv("POLICYENGINE_MAX_LINE_BYTES", "64K")
    reader = open_snapshot(path)
    with pytest.raises(SnapshotError) as err:
        list(reader.records())
    assert str(err.value).startswith(f"{path}:2: S001 the line is longer than 64 KiB")


def test_the_default_line_limit_stops_a_bomb_without_an_override(tmp_path):
    assert current_limits().line == 16 * MIB
    path = tmp_path / "bomb.jsonl.gz"
    _bomb(path, HEADER + b'\n{"kind":"account","id":"u1","name":"', 32, b'"}\n')
    with pytest.raises(SnapshotError, match="the line is longer than 16 MiB"):
        list(open_snapshot(path).records())


def test_a_header_line_is_bounded_too(tmp_path, monkeypatch):
    path = tmp_path / "bomb.jsonl.gz"
    _bomb(path, b'{"snapshot_version":1,"x":"', 2, b'"}\n')
    monkeypatch.setenv("POLICYENGINE_MAX_LINE_BYTES", "1M")
    with pytest.raises(SnapshotError, match=r"bomb\.jsonl\.gz:1: S001 the line is longer"):
        open_snapshot(path)


def test_many_small_lines_are_bounded_by_the_decompressed_total(tmp_path, monkeypatch):
    path = tmp_path / "many.jsonl.gz"
    with gzip.open(path, "wb") as handle:
        handle.write(HEADER + b"\n")
        for i in range(40_000):  # about 2.4 MiB of valid, distinct records
            handle.write(_record(i))
    assert len(list(open_snapshot(path).records())) == 40_000  # the default allows it
    monkeypatch.setenv("POLICYENGINE_MAX_SNAPSHOT_BYTES", "1M")
    with pytest.raises(SnapshotError) as err:
        list(open_snapshot(path).records())
    assert str(err.value).startswith(f"{path}: S001 the data expands to more than 1 MiB")


def test_uncompressed_files_over_the_limit_are_refused_before_reading(tmp_path, monkeypatch):
    document = tmp_path / "big.json"
    document.write_bytes(HEADER[:-1] + b',"accounts":[]' + b" " * 2 * MIB + b"}")
    monkeypatch.setenv("POLICYENGINE_MAX_JSON_BYTES", "1M")
    with pytest.raises(SnapshotError, match=r"big\.json: S001 the file is larger than 1 MiB"):
        open_snapshot(document)
    lines = tmp_path / "big.jsonl"
    lines.write_bytes(HEADER + b"\n" + b"".join(_record(i) for i in range(40_000)))
    monkeypatch.setenv("POLICYENGINE_MAX_SNAPSHOT_BYTES", "1M")
    with pytest.raises(SnapshotError, match=r"big\.jsonl: S001 the file is larger than 1 MiB"):
        open_snapshot(lines)


def test_the_parallel_ranged_reader_bounds_lines_too(tmp_path, monkeypatch, write_policy):
    path = tmp_path / "long.jsonl"
    long_line = b'{"kind":"account","id":"x","name":"' + b"a" * 300_000 + b'"}\n'
    path.write_bytes(HEADER + b"\n" + b"".join(_record(i) for i in range(3000)) + long_line)
    monkeypatch.setattr(stream, "CHUNK_BYTES", 32 * 1024)
    monkeypatch.setattr(stream, "PARALLEL_MIN_BYTES", 0)
    monkeypatch.setenv("POLICYENGINE_MAX_LINE_BYTES", "64K")
    policy = write_policy(
        "id: PE-T-001\ntitle: t\nseverity: high\nresource: account\n"
        "remediation: Fix {name}.\nrequire: {enabled: true}\n"
    )
    with pytest.raises(SnapshotError) as err:
        evaluate_snapshots([path], load_policy_set([policy]))
    assert str(err.value).startswith(f"{path}:3002: S001 the line is longer than 64 KiB")


@pytest.mark.parametrize("value", ["lots", "-5", "0", "12X", "1.5G"])
def test_a_bad_override_is_a_usage_error_naming_the_variable(tmp_path, monkeypatch, value):
    path = tmp_path / "s.jsonl"
    path.write_bytes(HEADER + b"\n")
    monkeypatch.setenv("POLICYENGINE_MAX_LINE_BYTES", value)
    with pytest.raises(UsageError, match="POLICYENGINE_MAX_LINE_BYTES"):
        open_snapshot(path)


def test_overrides_accept_plain_bytes_and_suffixes(monkeypatch):
    monkeypatch.setenv("POLICYENGINE_MAX_LINE_BYTES", "1000")
    monkeypatch.setenv("POLICYENGINE_MAX_JSON_BYTES", "2g")
    monkeypatch.setenv("POLICYENGINE_MAX_SNAPSHOT_BYTES", "512K")
    limits = current_limits()
    assert (limits.line, limits.document, limits.snapshot) == (1000, 2 << 30, 512 << 10)
