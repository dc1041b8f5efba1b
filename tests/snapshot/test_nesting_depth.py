"""A too-deeply nested value in a snapshot is refused with file:line, never a RecursionError."""

from __future__ import annotations

import orjson
import pytest

from policyengine.cli.main import main
from policyengine.errors import SnapshotError
from policyengine.snapshot import open_snapshot
from policyengine.snapshot.validate import MAX_DEPTH

HEADER = {
    "snapshot_version": 1,
    "source": {
        "connector": "ldap",
        "instance": "ad",
        "collected_at": "2026-11-01T00:00:00Z",
        "complete": True,
    },
}
POLICY = """\
id: PE-T-001
title: raw attribute set
severity: high
resource: account
remediation: Fix {name}.
require: {raw.a: {eq: 1}}
"""


def _nested(levels: int) -> str:
    return "[" * levels + "]" * levels


def _jsonl(tmp_path, raw_value: str):
    line = '{"kind":"account","id":"u1","name":"x","enabled":true,"raw":{"a":' + raw_value + "}}"
    path = tmp_path / "deep.jsonl"
    path.write_bytes(orjson.dumps(HEADER) + b"\n" + line.encode() + b"\n")
    return path


def test_a_1000_level_raw_value_is_refused_with_file_and_line(tmp_path):
    path = _jsonl(tmp_path, _nested(1000))
    with pytest.raises(SnapshotError) as err:
        list(open_snapshot(path).records())
    message = str(err.value)
    assert message.startswith(f"{path}:2: S003 field 'raw': nests lists/objects deeper than")


def test_a_1000_level_value_in_a_json_document_is_refused(tmp_path):
    path = tmp_path / "deep.json"
    document = orjson.dumps(HEADER)[:-1] + b',"accounts":[{"id":"u1","raw":{"a":'
    path.write_bytes(document + _nested(1000).encode() + b"}}]}")
    with pytest.raises(SnapshotError) as err:
        list(open_snapshot(path).records())
    assert "record 0" in str(err.value) and "accounts[0].raw" in str(err.value)
    assert f"deeper than {MAX_DEPTH} levels" in str(err.value)


@pytest.mark.parametrize("fmt", ["text", "json"])
def test_evaluate_says_which_file_instead_of_an_internal_error(tmp_path, capsys, fmt):
    # before: "internal error: RecursionError" (text) / "TypeError: Recursion limit reached" (json)
    snapshot = _jsonl(tmp_path, _nested(1000))
    policy = tmp_path / "p.yaml"
    policy.write_text(POLICY)
    code = main(
        ["evaluate", "--policies", str(policy), "--snapshot", str(snapshot), "--format", fmt]
    )
    err = capsys.readouterr().err
    assert code == 2
    assert f"{snapshot}:2: S003" in err and "internal error" not in err


def test_the_limit_is_exact_and_brackets_in_strings_do_not_count(tmp_path):
    # raw is level 1, so raw.a may nest MAX_DEPTH - 1 levels
    ok = _jsonl(tmp_path, _nested(MAX_DEPTH - 1))
    assert len(list(open_snapshot(ok).records())) == 1
    strings = _jsonl(tmp_path, '"' + "[{" * 500 + '"')
    assert len(list(open_snapshot(strings).records())) == 1
    too_deep = _jsonl(tmp_path, _nested(MAX_DEPTH))
    with pytest.raises(SnapshotError, match="deeper than"):
        list(open_snapshot(too_deep).records())
