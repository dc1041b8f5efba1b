"""JUnit XML: a suite per policy, a case per finding, passing case for clean policies."""

from __future__ import annotations

import xml.etree.ElementTree as ET
from pathlib import Path

import pytest
import xmlschema

from policyengine.findings.model import Result
from policyengine.report import ReportOptions, render
from tests.findings.samples import diffed_result, finding, plain_result, result

#: Jenkins xunit-plugin's schema (MIT, see tests/data/junit-xsd/LICENSE)
XSD = xmlschema.XMLSchema10(Path(__file__).parent.parent / "data" / "junit-xsd" / "junit-10.xsd")


def junit(res: Result, **options: object) -> ET.Element:
    text = render("junit", res, ReportOptions(**options))  # type: ignore[arg-type]
    assert text.startswith('<?xml version="1.0" encoding="UTF-8"?>')
    errors = list(XSD.iter_errors(text))
    assert not errors, "\n".join(str(e.reason) for e in errors[:5])
    return ET.fromstring(text.split("\n", 1)[1])


def suites(root: ET.Element) -> dict[str, ET.Element]:
    return {s.get("name", "").split(":")[0]: s for s in root.iter("testsuite")}


def test_suite_per_policy_case_per_finding() -> None:
    root = junit(plain_result())
    by = suites(root)
    assert set(by) == {"PE-INT-001", "PE-MFA-002", "PE-SES-001"}
    mfa = by["PE-MFA-002"]
    cases = mfa.findall("testcase")
    assert [c.get("name") for c in cases] == [
        "account corp-ad/u7 (svc-sync)",
        "account corp-ad/u9 (alice-admin) at access/admins.yaml:12",
    ]
    failure = cases[1].find("failure")
    assert failure is not None and failure.get("type") == "critical"
    assert "mfa.methods: ['sms']" in (failure.text or "")
    assert "remediation: Register a FIDO2 key for alice-admin" in (failure.text or "")
    # junit-10.xsd has no testcase@file/@line: the location is in the name and the failure text
    assert cases[1].get("file") is None
    assert (failure.text or "").startswith("access/admins.yaml:12: ")
    assert mfa.get("tests") == "2" and mfa.get("failures") == "2"
    assert root.get("tests") == "4" and root.get("failures") == "3"


def test_policy_without_findings_has_one_passing_case() -> None:
    clean = suites(junit(plain_result()))["PE-INT-001"]
    (case,) = clean.findall("testcase")
    assert case.get("name") == "5 integration(s) evaluated, no finding"
    assert list(case) == []
    assert clean.get("failures") == "0" and clean.get("tests") == "1"


def test_diff_fails_only_new_and_skips_waived_and_unchanged() -> None:
    by = suites(junit(diffed_result(), diff=True))
    ses = by["PE-SES-001"].findall("testcase")
    assert len(ses) == 1 and ses[0].find("skipped") is not None  # unchanged
    mfa = {c.get("name"): c for c in by["PE-MFA-002"].findall("testcase")}
    assert "gone" not in " ".join(mfa)  # resolved left out
    carol = mfa["account corp-ad/u5 (carol)"]
    skipped = carol.find("skipped")
    assert skipped is not None and "hardware key on order" in skipped.get("message", "")
    assert (
        mfa["account corp-ad/u9 (alice-admin) at access/admins.yaml:12"].find("failure") is not None
    )
    app = by["PE-INT-001"].find("testcase")
    assert app is not None and app.find("failure") is not None  # expired waiver: fails
    assert "waiver expired 2026-01-01" in (app.find("failure").text or "")  # type: ignore[union-attr]


def test_incomplete_data_is_an_error_case() -> None:
    root = junit(result(complete=False))
    assert root.get("errors") == "1"
    err = root.find(".//error")
    assert err is not None and "timeLimitExceeded" in (err.text or "")


def test_control_characters_and_markup_in_data_stay_well_formed() -> None:
    nasty = finding("u\x01x", name="<script>&\x1b[31m", message="a\x00b ]]> c")
    root = junit(result(nasty))
    names = [c.get("name") for c in root.iter("testcase")]
    assert any(n and "<script>&" in n for n in names)


def test_schema_check_can_fail() -> None:
    bad = '<testsuites skipped="1"><testsuite name="x" tests="1" failures="0" errors="0">'
    bad += '<testcase name="c" file="a.yaml" line="3"/></testsuite></testsuites>'
    assert len(list(XSD.iter_errors(bad))) == 3


@pytest.mark.parametrize("make", [plain_result, diffed_result, lambda: result(complete=False)])
def test_every_shape_validates_against_junit_10_xsd(make: object) -> None:
    junit(make())  # type: ignore[operator]
