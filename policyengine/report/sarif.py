"""``--format sarif``: SARIF 2.1.0 for code scanning (GitHub, GitLab, Azure DevOps).

- one rule per policy (``tool.driver.rules``) with help text and markdown,
  remediation, ``helpUri`` and ``properties`` (``frameworks``, ``tags``,
  ``security-severity`` as GitHub reads it);
- one result per finding, ``level`` from severity, the fingerprint in
  ``partialFingerprints["policyengine/v1"]``, a physical location (the file
  and line that declared the resource, for access-as-code) when known, else a
  logical location ``source/kind/id``;
- waived findings carry an accepted external ``suppression``; in a diff,
  ``baselineState`` is ``new`` or ``unchanged`` and resolved findings are
  left out (they are absent from the head, and code scanning would reopen
  them); their count is in ``run.properties``;
- incomplete sources and warnings become tool execution notifications;
- ``automationDetails.id`` (``policyengine/<command>/``, stable across runs so
  code scanning matches a run with the previous one of the same kind) and
  ``tool.driver.fullName``: GitHub Advanced Security for Azure DevOps rejects
  a run without them.

Every output is validated against the official schema in the tests.
"""

from __future__ import annotations

import posixpath
from collections.abc import Mapping
from typing import Any
from urllib.parse import quote

import orjson

from policyengine.findings.model import Finding, PolicyInfo, Result
from policyengine.report import ReportOptions, command_of

SCHEMA_URI = "https://json.schemastore.org/sarif-2.1.0.json"
INFORMATION_URI = "https://github.com/policyengine/policyengine"
FINGERPRINT_KEY = "policyengine/v1"

LEVELS: Mapping[str, str] = {
    "critical": "error",
    "high": "error",
    "medium": "warning",
    "low": "note",
    "info": "note",
}
#: GitHub code scanning reads ``security-severity`` (0.0-10.0, CVSS-like bands)
SECURITY_SEVERITY: Mapping[str, str] = {
    "critical": "9.5",
    "high": "8.0",
    "medium": "5.5",
    "low": "3.0",
    "info": "0.0",
}
_BASELINE = {"new": "new", "unchanged": "unchanged", "resolved": "absent"}

#: the file this format is written to in a scan's run folder
FILE_NAME = "report.sarif"


def render(result: Result, options: ReportOptions) -> str:
    """Render ``result`` as a SARIF 2.1.0 log (one run)."""
    from policyengine import __version__

    policies = _policies(result)
    rule_index = {p.id: i for i, p in enumerate(policies)}
    shown = [f for f in result.findings if f.change != "resolved"]
    resolved = sum(1 for f in result.findings if f.change == "resolved")
    run: dict[str, Any] = {
        "tool": {
            "driver": {
                "name": "policyengine",
                "fullName": f"policyengine {__version__}",
                "version": __version__,
                "semanticVersion": __version__,
                "informationUri": INFORMATION_URI,
                "rules": [_rule(p) for p in policies],
            }
        },
        # a trailing "/" makes the id a category: each run's own id is left to the consumer
        "automationDetails": {"id": f"policyengine/{command_of(options)}/"},
        "invocations": [_invocation(result)],
        "results": [_result(f, rule_index[f.policy_id]) for f in shown],
        "columnKind": "unicodeCodePoints",
        "properties": _run_properties(result, resolved, options),
    }
    log = {"$schema": SCHEMA_URI, "version": "2.1.0", "runs": [run]}
    return orjson.dumps(log, option=orjson.OPT_INDENT_2).decode() + "\n"


def _policies(result: Result) -> list[PolicyInfo]:
    """Rules: every policy of the result, plus a stub for any finding without one."""
    known = {p.id: p for p in result.policies}
    for f in result.findings:
        if f.policy_id not in known:
            known[f.policy_id] = PolicyInfo(
                id=f.policy_id,
                title=f.title,
                severity=f.severity,
                resource=f.resource.kind,
                remediation=f.remediation,
                frameworks=f.frameworks,
            )
    return sorted(known.values(), key=lambda p: p.id)


def _rule(p: PolicyInfo) -> dict[str, Any]:
    title = p.title or p.id
    rule: dict[str, Any] = {
        "id": p.id,
        "name": _camel(title),
        "shortDescription": {"text": title},
        "fullDescription": {"text": p.description.strip() or title},
        "help": {"text": _help_text(p), "markdown": _help_markdown(p)},
        "defaultConfiguration": {"level": LEVELS.get(p.severity, "warning")},
        "properties": {
            "severity": p.severity,
            "security-severity": SECURITY_SEVERITY.get(p.severity, "5.5"),
            "precision": "very-high",
            "problem.severity": _problem_severity(p.severity),
            "tags": list(
                dict.fromkeys(["security", "access", p.resource, *_framework_tags(p.frameworks)])
            ),
            "frameworks": {k: list(v) for k, v in sorted(p.frameworks.items())},
            "resourceKind": p.resource,
        },
    }
    if p.references:
        rule["helpUri"] = p.references[0]
    return rule


def _problem_severity(severity: str) -> str:
    return {"critical": "error", "high": "error", "medium": "warning"}.get(
        severity, "recommendation"
    )


def _framework_tags(frameworks: Mapping[str, tuple[str, ...]]) -> list[str]:
    return [
        f"{name}/{control}" for name, controls in sorted(frameworks.items()) for control in controls
    ]


def _camel(text: str) -> str:
    words = "".join(c if c.isalnum() else " " for c in text).split()
    return "".join(w[:1].upper() + w[1:] for w in words) or "Policy"


def _help_text(p: PolicyInfo) -> str:
    parts = [p.title or p.id]
    if p.description.strip():
        parts.append(p.description.strip())
    if p.rationale.strip():
        parts.append(f"Why: {p.rationale.strip()}")
    if p.remediation.strip():
        parts.append(f"How to fix: {p.remediation.strip()}")
    if p.frameworks:
        parts.append(
            "Frameworks: "
            + "; ".join(f"{k} {', '.join(v)}" for k, v in sorted(p.frameworks.items()))
        )
    if p.references:
        parts.append("References: " + " ".join(p.references))
    return "\n\n".join(parts)


def _help_markdown(p: PolicyInfo) -> str:
    parts = [f"**{_md(p.title or p.id)}** (`{p.id}`, severity {p.severity})"]
    if p.description.strip():
        parts.append(_md(p.description.strip()))
    if p.rationale.strip():
        parts.append(f"### Why\n\n{_md(p.rationale.strip())}")
    if p.remediation.strip():
        parts.append(f"### How to fix\n\n{_md(p.remediation.strip())}")
    if p.frameworks:
        rows = "\n".join(
            f"- {_md(k)}: {', '.join(_md(c) for c in v)}" for k, v in sorted(p.frameworks.items())
        )
        parts.append(f"### Frameworks\n\n{rows}")
    if p.references:
        parts.append("### References\n\n" + "\n".join(f"- <{r}>" for r in p.references))
    return "\n\n".join(parts)


def _md(text: str) -> str:
    # policy text is data: keep it from being read as HTML in a code-scanning UI
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


def _result(f: Finding, index: int) -> dict[str, Any]:
    r = f.resource
    logical = {
        "name": r.id,
        "fullyQualifiedName": f"{r.source}/{r.kind}/{r.id}",
        "kind": "resource",
    }
    location: dict[str, Any] = {"logicalLocations": [logical]}
    if r.file:
        physical: dict[str, Any] = {"artifactLocation": {"uri": _uri(r.file)}}
        if r.line and r.line >= 1:
            physical["region"] = {"startLine": int(r.line)}
        location["physicalLocation"] = physical
    message = f.message or f.title or f.policy_id
    label = r.name if r.name and r.name != r.id else r.id
    out: dict[str, Any] = {
        "ruleId": f.policy_id,
        "ruleIndex": index,
        "kind": "fail",
        "level": LEVELS.get(f.severity, "warning"),
        "message": {"text": f"{message} ({r.kind} '{label}' in {r.source})"},
        "locations": [location],
        "partialFingerprints": {FINGERPRINT_KEY: f.fingerprint},
        "properties": {
            "severity": f.severity,
            "resource": {"kind": r.kind, "source": r.source, "id": r.id, "name": r.name},
            "evidence": [e.to_dict() for e in f.evidence],
            "remediation": f.remediation,
        },
    }
    if f.change is not None:
        out["baselineState"] = _BASELINE[f.change]
    if f.waiver is not None:
        out["properties"]["waiver"] = f.waiver.to_dict()
    if f.waived and f.waiver is not None:
        w = f.waiver
        out["suppressions"] = [
            {
                "kind": "external",
                "status": "accepted",
                "justification": f"{w.reason} (owner {w.owner}, expires {w.expires[:10]}"
                + (f", {w.ticket})" if w.ticket else ")"),
                **({"location": _waiver_location(w.file, w.line)} if w.file else {}),
            }
        ]
    return out


def _waiver_location(file: str | None, line: int | None) -> dict[str, Any]:
    physical: dict[str, Any] = {"artifactLocation": {"uri": _uri(file or "")}}
    if line and line >= 1:
        physical["region"] = {"startLine": int(line)}
    return {"physicalLocation": physical}


def _uri(path: str) -> str:
    """A file path as a URI reference: relative paths stay relative (repo root)."""
    p = path.replace("\\", "/")
    if p.startswith("/"):
        return "file://" + quote(posixpath.normpath(p))
    if len(p) > 2 and p[1] == ":" and p[2] == "/":  # C:/...
        return "file:///" + quote(p, safe="/:")
    return quote(posixpath.normpath(p))


def _invocation(result: Result) -> dict[str, Any]:
    notes: list[dict[str, Any]] = []
    for s in result.sources:
        if not s.complete:
            errors = "; ".join(s.errors) or "no detail"
            notes.append(
                {
                    "level": "error",
                    "message": {"text": f"data incomplete: {s.instance} ({s.connector}): {errors}"},
                    "descriptor": {"id": "PE-INCOMPLETE"},
                }
            )
    for w in result.warnings:
        notes.append({"level": "warning", "message": {"text": w}})
    inv: dict[str, Any] = {"executionSuccessful": True}
    if notes:
        inv["toolExecutionNotifications"] = notes
    return inv


def _run_properties(result: Result, resolved: int, options: ReportOptions) -> dict[str, Any]:
    props: dict[str, Any] = {
        "now": result.now,
        "complete": result.complete,
        "sources": [
            {"instance": s.instance, "connector": s.connector, "complete": s.complete}
            for s in result.sources
        ],
    }
    if options.fail_on:
        props["failOn"] = options.fail_on
    if options.diff or any(f.change for f in result.findings):
        props["resolved"] = resolved
    return props
