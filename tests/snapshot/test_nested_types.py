"""Known keys of object-valued fields (mfa, session, strength, delegation, location) are
type-checked like top-level fields: a string "false" is not a boolean."""

from __future__ import annotations

from pathlib import Path

import orjson
import pytest

from policyengine.errors import SnapshotError
from policyengine.snapshot import open_snapshot
from policyengine.snapshot.validate import check_record

HEADER = {
    "snapshot_version": 1,
    "source": {
        "connector": "okta",
        "instance": "okta",
        "collected_at": "2026-11-01T00:00:00Z",
        "complete": True,
    },
}


def _snapshot(tmp_path: Path, record: dict) -> Path:
    path = tmp_path / "s.jsonl"
    path.write_bytes(orjson.dumps(HEADER) + b"\n" + orjson.dumps(record) + b"\n")
    return path


@pytest.mark.parametrize(
    ("record", "field"),
    [
        ({"kind": "account", "id": "u1", "mfa": {"enrolled": "false"}}, "mfa.enrolled"),
        (
            {"kind": "account", "id": "u1", "mfa": {"phishing_resistant": 1}},
            "mfa.phishing_resistant",
        ),
        ({"kind": "account", "id": "u1", "mfa": {"methods": "sms"}}, "mfa.methods"),
        ({"kind": "account", "id": "u1", "mfa": {"methods": ["sms", 7]}}, "mfa.methods"),
        (
            {"kind": "account", "id": "u1", "session": {"max_lifetime_minutes": "60"}},
            "session.max_lifetime_minutes",
        ),
        (
            {"kind": "account", "id": "u1", "session": {"idle_timeout_minutes": True}},
            "session.idle_timeout_minutes",
        ),
        (
            {"kind": "account", "id": "u1", "delegation": {"unconstrained": "yes"}},
            "delegation.unconstrained",
        ),
        (
            {"kind": "account", "id": "u1", "delegation": {"constrained_to": "http/x"}},
            "delegation.constrained_to",
        ),
        ({"kind": "credential", "id": "c1", "strength": {"bits": "160"}}, "strength.bits"),
        ({"kind": "credential", "id": "c1", "strength": {"digits": 6.0}}, "strength.digits"),
        ({"kind": "credential", "id": "c1", "strength": {"algorithm": 1}}, "strength.algorithm"),
        ({"kind": "group", "id": "g1", "location": {"line": "7"}}, "location.line"),
    ],
)
def test_wrong_nested_type_is_refused_naming_file_line_and_field(
    tmp_path: Path, record: dict, field: str
) -> None:
    path = _snapshot(tmp_path, record)
    with pytest.raises(SnapshotError) as err:
        list(open_snapshot(path).records())
    message = str(err.value)
    assert message.startswith(f"{path}:2")
    assert f"field '{field}'" in message


def test_correct_nested_values_null_and_unknown_keys_pass() -> None:
    record = {
        "kind": "account",
        "id": "u1",
        "mfa": {"enrolled": True, "methods": ["webauthn"], "phishing_resistant": None},
        "session": {"max_lifetime_minutes": 480, "idle_timeout_minutes": 7.5},
        "delegation": {"unconstrained": False, "constrained_to": [], "extra": "kept"},
        "raw": {"mfa": {"enrolled": "whatever the source said"}},
    }
    assert check_record(record) is None


def test_the_message_never_echoes_a_secret() -> None:
    record = {
        "kind": "credential",
        "id": "c1",
        "strength": {"bits": "client_secret=hunter2hunter2"},
    }
    problem = check_record(record)
    assert problem is not None and problem.startswith("strength.bits: must be int")
    assert "hunter2" not in problem
