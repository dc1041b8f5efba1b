"""Read a saved ``--format json`` result (a ``diff`` base) strictly.

A base decides what a gate calls "unchanged", so a field we cannot judge is an
error naming the file and the field, never a guess: an unknown
``schema_version``, an unknown severity, a fingerprint that is not one (null,
empty), a ``complete`` that is not a boolean. Hand-written rather than a schema
library: a saved result may hold a million findings and this stays linear and cheap.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Any

from policyengine.errors import Location, SnapshotError
from policyengine.findings.model import CHANGE_ORDER, SEVERITIES, Result

#: result schema versions this build reads (``policyengine.RESULT_SCHEMA_VERSION``)
READABLE_VERSIONS = (1,)
_FINGERPRINT = re.compile(r"[0-9a-f]{32}")
_SEVERITY_SET = frozenset(SEVERITIES)


def result_from_saved(doc: Mapping[str, Any], file: str) -> Result:
    """The saved result ``doc`` read from ``file``; SnapshotError (exit 2) when malformed."""

    def fail(message: str, fld: str) -> SnapshotError:
        return SnapshotError(f"saved result: {message}", Location(file, field=fld))

    version = doc.get("schema_version")
    if type(version) is not int or version not in READABLE_VERSIONS:
        raise fail(
            f"unknown schema_version {repr(version)[:40]} (this version reads "
            f"{', '.join(map(str, READABLE_VERSIONS))})",
            "schema_version",
        )
    for i, finding in enumerate(doc.get("findings") or ()):
        _check_finding(finding, f"findings[{i}]", fail)
        for j, folded in enumerate(_list(finding.get("folded"), f"findings[{i}].folded", fail)):
            _check_finding(folded, f"findings[{i}].folded[{j}]", fail)
    for i, policy in enumerate(_list(doc.get("policies"), "policies", fail)):
        if not isinstance(policy, Mapping) or not _text(policy.get("id")):
            raise fail("a policy needs an `id`", f"policies[{i}].id")
        if "severity" in policy and policy["severity"] not in _SEVERITY_SET:
            raise fail(_unknown_severity(policy["severity"]), f"policies[{i}].severity")
    for i, source in enumerate(_list(doc.get("sources"), "sources", fail)):
        if not isinstance(source, Mapping) or type(source.get("complete")) is not bool:
            raise fail("`complete` must be true or false", f"sources[{i}].complete")
    try:
        return Result.from_dict(doc)
    except (KeyError, TypeError, ValueError, AttributeError) as exc:
        raise SnapshotError(
            f"saved result does not have the --format json shape: {exc!r}", Location(file)
        ) from None


def _check_finding(finding: Any, where: str, fail: Any) -> None:
    if not isinstance(finding, Mapping):
        raise fail("a finding must be a JSON object", where)
    if not _text(finding.get("policy_id")):
        raise fail("`policy_id` must be a non-empty string", f"{where}.policy_id")
    if finding.get("severity") not in _SEVERITY_SET:
        raise fail(_unknown_severity(finding.get("severity")), f"{where}.severity")
    fp = finding.get("fingerprint")
    if not isinstance(fp, str) or not _FINGERPRINT.fullmatch(fp):
        raise fail(
            f"`fingerprint` must be 32 hex digits, not {repr(fp)[:40]}", f"{where}.fingerprint"
        )
    resource = finding.get("resource")
    if not isinstance(resource, Mapping):
        raise fail("`resource` must be an object", f"{where}.resource")
    for key in ("kind", "source", "id"):
        if not _text(resource.get(key)):
            raise fail(f"`{key}` must be a non-empty string", f"{where}.resource.{key}")
    change = finding.get("change")
    if change is not None and change not in CHANGE_ORDER:
        raise fail(f"unknown change {repr(change)[:40]}", f"{where}.change")
    if type(finding.get("waived", False)) is not bool:
        raise fail("`waived` must be true or false", f"{where}.waived")


def _list(value: Any, where: str, fail: Any) -> list[Any]:
    if value is None:
        return []
    if not isinstance(value, list):
        raise fail("must be a list", where)
    return value


def _text(value: Any) -> bool:
    return isinstance(value, str) and bool(value)


def _unknown_severity(value: Any) -> str:
    return f"unknown severity {repr(value)[:40]} (one of {', '.join(SEVERITIES)})"
