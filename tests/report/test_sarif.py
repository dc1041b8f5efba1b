"""SARIF 2.1.0: rules, results, locations, fingerprints; valid against the official schema."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import jsonschema
import pytest

from policyengine.findings.model import Result
from policyengine.report import ReportOptions, render
from tests.findings.samples import diffed_result, finding, plain_result, result

SCHEMA = json.loads(
    (Path(__file__).parent.parent / "data" / "sarif-schema-2.1.0.json").read_text("utf-8")
)


def sarif(res: Result, **options: Any) -> dict[str, Any]:
    text = render("sarif", res, ReportOptions(**options))
    log = json.loads(text)
    validator = jsonschema.Draft4Validator(SCHEMA, format_checker=jsonschema.FormatChecker())
    errors = sorted(validator.iter_errors(log), key=lambda e: list(e.path))
    assert not errors, "\n".join(f"{list(e.path)}: {e.message}" for e in errors[:5])
    return log


def test_schema_is_the_official_one() -> None:
    assert SCHEMA["title"] == "Static Analysis Results Format (SARIF) Version 2.1.0 JSON Schema"
    assert SCHEMA["properties"]["version"]["enum"] == ["2.1.0"]


def test_schema_check_can_fail() -> None:
    bad = {"version": "2.1.0", "runs": [{"tool": {"driver": {}}, "results": []}]}
    assert list(jsonschema.Draft4Validator(SCHEMA).iter_errors(bad))


def test_one_rule_per_policy_with_help_and_properties() -> None:
    run = sarif(plain_result())["runs"][0]
    rules = run["tool"]["driver"]["rules"]
    assert [r["id"] for r in rules] == ["PE-INT-001", "PE-MFA-002", "PE-SES-001"]
    mfa = rules[1]
    assert mfa["shortDescription"]["text"] == "Privileged accounts use phishing-resistant MFA"
    assert "How to fix: Register a FIDO2 key" in mfa["help"]["text"]
    assert "### How to fix" in mfa["help"]["markdown"]
    assert mfa["helpUri"] == "https://pages.nist.gov/800-63-4/sp800-63b.html"
    assert mfa["properties"]["security-severity"] == "9.5"
    assert mfa["properties"]["frameworks"] == {
        "cis-v8": ["6.5"],
        "nist-800-53": ["IA-2(1)", "IA-2(6)"],
    }
    assert "nist-800-53/IA-2(1)" in mfa["properties"]["tags"]
    assert mfa["defaultConfiguration"]["level"] == "error"
    assert rules[2]["defaultConfiguration"]["level"] == "warning"


def test_results_carry_level_fingerprint_and_rule_index() -> None:
    run = sarif(plain_result())["runs"][0]
    rules = run["tool"]["driver"]["rules"]
    assert len(run["results"]) == 3
    for res, f in zip(run["results"], plain_result().findings, strict=True):
        assert res["ruleId"] == f.policy_id
        assert rules[res["ruleIndex"]]["id"] == f.policy_id
        assert res["partialFingerprints"] == {"policyengine/v1": f.fingerprint}
        assert res["level"] == {"critical": "error", "medium": "warning"}[f.severity]
        assert res["properties"]["evidence"][0]["path"] == "mfa.methods"


def test_location_is_the_declaring_file_and_line_else_logical() -> None:
    results = {
        r["properties"]["resource"]["id"]: r for r in sarif(plain_result())["runs"][0]["results"]
    }
    loc = results["u9"]["locations"][0]
    assert loc["physicalLocation"] == {
        "artifactLocation": {"uri": "access/admins.yaml"},
        "region": {"startLine": 12},
    }
    only = results["u1"]["locations"][0]
    assert "physicalLocation" not in only
    assert only["logicalLocations"] == [
        {"name": "u1", "fullyQualifiedName": "corp-ad/account/u1", "kind": "resource"}
    ]


def test_diff_marks_baseline_state_and_leaves_resolved_out() -> None:
    run = sarif(diffed_result(), diff=True)["runs"][0]
    states = {r["properties"]["resource"]["id"]: r["baselineState"] for r in run["results"]}
    assert states == {"u9": "new", "u5": "new", "app1": "new", "u1": "unchanged"}
    assert run["properties"]["resolved"] == 1


def test_waived_finding_is_an_accepted_suppression() -> None:
    results = {
        r["properties"]["resource"]["id"]: r for r in sarif(diffed_result())["runs"][0]["results"]
    }
    (sup,) = results["u5"]["suppressions"]
    assert sup["kind"] == "external" and sup["status"] == "accepted"
    assert "hardware key on order" in sup["justification"]
    assert sup["location"]["physicalLocation"]["region"] == {"startLine": 2}
    expired = results["app1"]
    assert "suppressions" not in expired
    assert expired["properties"]["waiver"]["expired"] is True


def test_incomplete_data_and_warnings_are_notifications() -> None:
    run = sarif(result(finding("u9"), complete=False, warnings=("w1",)))["runs"][0]
    notes = run["invocations"][0]["toolExecutionNotifications"]
    assert notes[0]["level"] == "error" and "data incomplete" in notes[0]["message"]["text"]
    assert notes[1] == {"level": "warning", "message": {"text": "w1"}}
    assert run["properties"]["complete"] is False


@pytest.mark.parametrize(
    ("path", "uri"),
    [
        ("access/admins.yaml", "access/admins.yaml"),
        ("./access/my admins.yaml", "access/my%20admins.yaml"),
        ("/srv/repo/a.yaml", "file:///srv/repo/a.yaml"),
        ("access\\win.yaml", "access/win.yaml"),
    ],
)
def test_file_paths_become_uri_references(path: str, uri: str) -> None:
    log = sarif(result(finding("u9", file=path, line=3)))
    loc = log["runs"][0]["results"][0]["locations"][0]["physicalLocation"]
    assert loc["artifactLocation"]["uri"] == uri


def test_finding_of_unknown_policy_gets_a_rule_and_empty_result_is_valid() -> None:
    stray = finding("x", policy="PE-NEW-009")
    run = sarif(result(stray))["runs"][0]
    assert "PE-NEW-009" in [r["id"] for r in run["tool"]["driver"]["rules"]]
    empty = sarif(Result((), (), (), "2026-01-01T00:00:00Z"))["runs"][0]
    assert empty["results"] == [] and empty["tool"]["driver"]["rules"] == []


def test_output_is_deterministic() -> None:
    opts = ReportOptions(diff=True)
    assert render("sarif", diffed_result(), opts) == render("sarif", diffed_result(), opts)


@pytest.mark.parametrize(
    ("options", "command"),
    [({}, "evaluate"), ({"diff": True}, "diff"), ({"extra": {"scan": {"run_id": 1}}}, "scan")],
)
def test_run_has_automation_details_and_driver_full_name(
    options: dict[str, Any], command: str
) -> None:
    # GitHub Advanced Security for Azure DevOps rejects a run without these two
    from policyengine import __version__

    (run,) = sarif(plain_result(), **options)["runs"]
    assert run["automationDetails"] == {"id": f"policyengine/{command}/"}
    assert run["tool"]["driver"]["fullName"] == f"policyengine {__version__}"
