"""OCSF: one Detection Finding (class 2004) per finding, valid through py-ocsf-models."""

from __future__ import annotations

import json
import subprocess
import sys
from typing import Any

import pytest
from py_ocsf_models.events.findings.detection_finding import DetectionFinding

from policyengine.findings.model import Result
from policyengine.report import ReportOptions, render
from tests.findings.samples import diffed_result, finding, plain_result, result


def ocsf(res: Result, **options: Any) -> list[dict[str, Any]]:
    """The rendered array, each object parsed back through the library's model."""
    events = json.loads(render("ocsf", res, ReportOptions(**options)))
    assert isinstance(events, list)
    for event in events:
        model = DetectionFinding.model_validate(event)
        # nothing the model does not know (pydantic ignores unknown keys: compare the dump)
        assert model.model_dump(mode="json", exclude_none=True) == event
        assert event["class_uid"] == 2004 and event["category_uid"] == 2
        assert event["type_uid"] == 2004 * 100 + event["activity_id"]
    return events


def by_resource(events: list[dict[str, Any]]) -> dict[str, dict[str, Any]]:
    return {e["resources"][0]["data"]["id"]: e for e in events}


def test_one_detection_finding_per_finding() -> None:
    res = plain_result()
    events = ocsf(res)
    assert len(events) == len(res.findings)
    assert [e["finding_info"]["uid"] for e in events] == [f.fingerprint for f in res.findings]


def test_mapping_of_one_finding() -> None:
    from policyengine import __version__

    event = by_resource(ocsf(plain_result()))["u9"]
    assert event["severity_id"] == 5 and event["severity"] == "Critical"
    assert event["status_id"] == 1 and event["status"] == "New"
    assert event["activity_id"] == 1  # Create
    assert event["time"] == 1781913600000  # 2026-06-20T00:00:00Z in epoch milliseconds
    assert event["message"] == "alice-admin uses sms only"
    info = event["finding_info"]
    assert info["title"] == "Privileged accounts use phishing-resistant MFA"
    assert info["analytic"] == {
        "name": "PE-MFA-002",
        "uid": "PE-MFA-002",
        "type": "Rule",
        "type_id": 1,
    }
    assert info["src_url"] == "https://pages.nist.gov/800-63-4/sp800-63b.html"
    (resource,) = event["resources"]
    assert resource["uid"] == "corp-ad/account/u9"
    assert resource["name"] == "alice-admin" and resource["type"] == "account"
    assert resource["data"] == {
        "source": "corp-ad",
        "id": "u9",
        "file": "access/admins.yaml",
        "line": 12,
    }
    (evidence,) = event["evidences"]
    assert evidence["data"] == {
        "path": "mfa.methods",
        "actual": ["sms"],
        "expected": "contains any of webauthn, fido2",
    }
    assert event["remediation"]["desc"] == "Register a FIDO2 key for alice-admin in corp-ad."
    assert event["metadata"]["product"]["name"] == "policyengine"
    assert event["metadata"]["product"]["version"] == __version__
    assert event["metadata"]["event_code"] == "PE-MFA-002"
    assert event["unmapped"]["frameworks"] == {"nist-800-53": ["IA-2(1)"]}


def test_diff_maps_change_to_activity_and_waiver_to_suppressed() -> None:
    events = by_resource(ocsf(diffed_result(), diff=True))
    assert events["u9"]["activity_id"] == 1  # new: Create
    assert events["u1"]["activity_id"] == 2  # unchanged: Update
    gone = events["gone"]
    assert gone["activity_id"] == 3 and gone["status_id"] == 4  # resolved: Close, Resolved
    carol = events["u5"]
    assert carol["status_id"] == 3 and carol["status"] == "Suppressed"
    assert "hardware key on order" in carol["status_detail"]
    assert carol["unmapped"]["waiver"]["owner"] == "secops@example.com"
    app = events["app1"]  # an expired waiver waives nothing
    assert app["status_id"] == 1 and app["unmapped"]["waiver"]["expired"] is True


def test_incomplete_source_is_a_finding_too() -> None:
    (event,) = ocsf(result(complete=False))
    assert event["metadata"]["event_code"] == "DATA-INCOMPLETE"
    assert event["severity_id"] == 5
    assert "timeLimitExceeded" in event["message"]


def test_empty_result_is_an_empty_array() -> None:
    assert ocsf(result()) == []


def test_output_is_deterministic() -> None:
    assert render("ocsf", diffed_result()) == render("ocsf", diffed_result())


@pytest.mark.parametrize("name", ["x\x00y", "<script>", "\u202eevil"])
def test_hostile_strings_stay_data(name: str) -> None:
    (event,) = ocsf(result(finding("u1", name=name)))
    assert event["resources"][0]["name"] == name


def test_lint_start_up_does_not_import_pydantic() -> None:
    code = "import sys, policyengine.report, policyengine.cli; print('pydantic' in sys.modules)"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "False"


def test_evaluate_accepts_format_ocsf(write_policy, write_snapshot, capsys) -> None:  # type: ignore[no-untyped-def]
    from policyengine.cli.main import main
    from tests.cli.test_evaluate import ADMIN_SMS, POLICY

    snap = write_snapshot([ADMIN_SMS])
    code = main(
        ["evaluate", "-s", str(snap), "--policies", str(write_policy(POLICY)), "--format", "ocsf"]
    )
    (event,) = json.loads(capsys.readouterr().out)
    assert code == 1
    assert DetectionFinding.model_validate(event).class_uid == 2004
    assert event["metadata"]["event_code"] == "PE-T-010"
