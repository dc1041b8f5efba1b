"""``--format junit``: JUnit XML, one test suite per policy, for CI test tabs.

- a ``<testsuite>`` per policy (name ``ID: title``), a ``<testcase>`` per
  finding (classname the policy id, name the resource), with a
  ``<failure>`` carrying the message, evidence and remediation;
- a policy without findings gets one passing test case saying how many
  resources it evaluated (``PolicyInfo.evaluated``), so a green suite shows
  what was checked;
- waived findings are ``<skipped>`` with the waiver; in a diff, only new
  findings fail, unchanged ones are ``<skipped>`` ("pre-existing") and
  resolved ones are left out;
- incomplete sources are an ``<error>`` test case in a ``policyengine``
  suite, so missing data never looks green.

The output validates against the Jenkins xunit-plugin ``junit-10.xsd``, the
schema most CI dashboards accept. That schema has no ``testcase@file`` or
``@line`` and no ``testsuites@skipped``: the declaring ``file:line`` (for
access-as-code) is appended to the test case name and starts the failure
text (``file:line: message``), which every dashboard shows.
"""

from __future__ import annotations

import re
import xml.etree.ElementTree as ET
from collections.abc import Iterable

from policyengine.findings.model import Finding, PolicyInfo, Result
from policyengine.report import ReportOptions

# XML 1.0 forbids most control characters even when escaped
_INVALID_XML = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\ufffe\uffff]")


def _clean(text: object) -> str:
    return _INVALID_XML.sub("\ufffd", str(text))


#: the file this format is written to in a scan's run folder
FILE_NAME = "junit.xml"


def render(result: Result, options: ReportOptions) -> str:
    """Render ``result`` as a JUnit XML document."""
    diff = options.diff or any(f.change for f in result.findings)
    by_policy: dict[str, list[Finding]] = {}
    for f in result.findings:
        if f.change == "resolved":
            continue
        by_policy.setdefault(f.policy_id, []).append(f)
    policies = {p.id: p for p in result.policies}
    for pid, fs in by_policy.items():
        if pid not in policies:
            f = fs[0]
            policies[pid] = PolicyInfo(id=pid, title=f.title, severity=f.severity, resource="")
    root = ET.Element("testsuites", name="policyengine")
    totals = {"tests": 0, "failures": 0, "errors": 0, "skipped": 0}
    root_attributes = ("tests", "failures", "errors")  # junit-10.xsd: no testsuites@skipped
    incomplete = [s for s in result.sources if not s.complete]
    if incomplete:
        suite = ET.SubElement(root, "testsuite", name="policyengine: data completeness")
        for s in incomplete:
            case = ET.SubElement(
                suite, "testcase", classname="policyengine.sources", name=_clean(s.instance)
            )
            err = ET.SubElement(
                case, "error", message=_clean(f"data incomplete: {s.instance}"), type="incomplete"
            )
            err.text = _clean("\n".join(s.errors) or "the connector did not finish")
        _count(suite, len(incomplete), 0, len(incomplete), 0, totals)
    for pid in sorted(policies):
        _suite(root, policies[pid], by_policy.get(pid, []), diff, totals)
    for key in root_attributes:
        root.set(key, str(totals[key]))
    ET.indent(root)
    body = ET.tostring(root, encoding="unicode")
    return '<?xml version="1.0" encoding="UTF-8"?>\n' + body + "\n"


def _suite(
    root: ET.Element, p: PolicyInfo, findings: Iterable[Finding], diff: bool, totals: dict[str, int]
) -> None:
    suite = ET.SubElement(root, "testsuite", name=_clean(f"{p.id}: {p.title}" if p.title else p.id))
    props = ET.SubElement(suite, "properties")
    ET.SubElement(props, "property", name="severity", value=p.severity)
    if p.resource:
        ET.SubElement(props, "property", name="resource", value=p.resource)
    for name, controls in sorted(p.frameworks.items()):
        ET.SubElement(
            props, "property", name=f"framework.{name}", value=_clean(", ".join(controls))
        )
    tests = failures = skipped = 0
    for f in findings:
        tests += 1
        r = f.resource
        label = f"{r.kind} {r.source}/{r.id}" + (
            f" ({r.name})" if r.name and r.name != r.id else ""
        )
        where = _location(f)
        if where:
            label += f" at {where}"
        case = ET.SubElement(suite, "testcase", classname=p.id, name=_clean(label))
        if f.waived and f.waiver is not None:
            skipped += 1
            w = f.waiver
            ET.SubElement(
                case,
                "skipped",
                message=_clean(
                    f"waived until {w.expires[:10]}: {w.reason} (owner {w.owner}"
                    + (f", {w.ticket})" if w.ticket else ")")
                ),
            )
        elif diff and f.change == "unchanged":
            skipped += 1
            ET.SubElement(case, "skipped", message="pre-existing finding (unchanged from the base)")
        else:
            failures += 1
            failure = ET.SubElement(
                case, "failure", message=_clean(f.message or f.title), type=f.severity
            )
            failure.text = _clean(_details(f))
    if tests == 0:
        tests = 1
        ET.SubElement(
            suite,
            "testcase",
            classname=p.id,
            name=_clean(f"{p.evaluated} {p.resource or 'resource'}(s) evaluated, no finding"),
        )
    _count(suite, tests, failures, 0, skipped, totals)


def _location(f: Finding) -> str:
    """``file:line`` (or ``file``) that declared the resource, else empty."""
    r = f.resource
    if not r.file:
        return ""
    return f"{r.file}:{r.line}" if r.line else r.file


def _details(f: Finding) -> str:
    where = _location(f)
    prefix = f"{where}: " if where else ""
    lines = [f"{prefix}{f.policy_id} ({f.severity}): {f.message or f.title}"]
    if f.change:
        lines.append(f"change: {f.change}")
    if f.evidence:
        lines.append("evidence:")
        lines.extend(f"  {e.path}: {e.actual!r} (expected {e.expected})" for e in f.evidence)
    if f.waiver is not None and f.waiver.expired:
        lines.append(f"waiver expired {f.waiver.expires[:10]}: {f.waiver.reason}")
    if f.remediation:
        lines.append(f"remediation: {f.remediation}")
    lines.append(f"fingerprint: {f.fingerprint}")
    return "\n".join(lines)


def _count(
    suite: ET.Element, tests: int, failures: int, errors: int, skipped: int, totals: dict[str, int]
) -> None:
    suite.set("tests", str(tests))
    suite.set("failures", str(failures))
    suite.set("errors", str(errors))
    suite.set("skipped", str(skipped))
    totals["tests"] += tests
    totals["failures"] += failures
    totals["errors"] += errors
    totals["skipped"] += skipped
