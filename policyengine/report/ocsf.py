"""``--format ocsf``: OCSF Detection Findings (class 2004) for a SIEM or a security lake.

One event per finding, built with ``py-ocsf-models`` (the library Prowler
uses) so every event is valid for the OCSF schema the library implements:

- ``finding_info.uid`` is the finding's fingerprint (stable across runs, so a
  SIEM updates one finding instead of opening a new one); ``analytic`` is the
  policy (a ``Rule``), ``title`` its title, ``src_url`` its first reference;
- ``severity_id`` from the severity; ``status_id`` New, Suppressed (waived) or
  Resolved (a diff's resolved finding); ``activity_id`` Create, Update
  (unchanged in a diff) or Close (resolved);
- ``resources``: the resource, ``uid`` ``source/kind/id``; ``evidences``: one
  per failing condition; ``remediation``; frameworks, the waiver, the diff
  change and folded policies in ``unmapped``;
- ``time`` is the evaluation clock, not the wall clock, so output is
  deterministic;
- an incomplete source is an event too (``DATA-INCOMPLETE``, critical), so
  missing data is visible in the SIEM and not only in the exit code.

The output is one JSON array, not NDJSON: it is one document like every other
format (``--output`` writes it whole), and it is the shape Prowler writes for
its ``json-ocsf`` output, so ingest pipelines built for that read it.
``py-ocsf-models`` (pydantic) is imported only when this format is rendered.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

import orjson

from policyengine.findings.model import Finding, PolicyInfo, Result, SourceStatus, fingerprint
from policyengine.model.timestamps import parse_timestamp
from policyengine.report import ReportOptions

if TYPE_CHECKING:
    from py_ocsf_models.events.findings.detection_finding import DetectionFinding

VENDOR = "policyengine"
INCOMPLETE_ID = "DATA-INCOMPLETE"
#: our severity -> OCSF severity_id (1 Informational ... 5 Critical)
SEVERITY_IDS: Mapping[str, int] = {"info": 1, "low": 2, "medium": 3, "high": 4, "critical": 5}
#: diff change -> OCSF activity_id (1 Create, 2 Update, 3 Close)
ACTIVITY_IDS: Mapping[str | None, int] = {None: 1, "new": 1, "unchanged": 2, "resolved": 3}

#: the file this format is written to in a scan's run folder
FILE_NAME = "findings.ocsf.json"


def render(result: Result, options: ReportOptions) -> str:
    """Render ``result`` as a JSON array of OCSF Detection Finding events."""
    policies = {p.id: p for p in result.policies}
    time_ms = _epoch_ms(result.now)
    events = [_incomplete(s, time_ms) for s in result.sources if not s.complete]
    events += [_event(f, policies.get(f.policy_id), time_ms) for f in result.findings]
    dumped = [e.model_dump(mode="json", exclude_none=True) for e in events]
    return orjson.dumps(dumped, option=orjson.OPT_INDENT_2).decode() + "\n"


def _epoch_ms(timestamp: str) -> int:
    """OCSF timestamps are milliseconds since the epoch."""
    return int(parse_timestamp(timestamp).timestamp() * 1000)


def _event(f: Finding, policy: PolicyInfo | None, time_ms: int) -> DetectionFinding:
    from py_ocsf_models.events.findings.status_id import StatusID
    from py_ocsf_models.objects.evidence_artifacts import EvidenceArtifacts
    from py_ocsf_models.objects.remediation import Remediation
    from py_ocsf_models.objects.resource_details import ResourceDetails

    r = f.resource
    if f.change == "resolved":
        status, detail = StatusID.Resolved, "resolved since the base"
    elif f.waived and f.waiver is not None:
        w = f.waiver
        status = StatusID.Suppressed
        detail = f"waived until {w.expires[:10]}: {w.reason} (owner {w.owner}" + (
            f", {w.ticket})" if w.ticket else ")"
        )
    else:
        status, detail = StatusID.New, None
    location = {"file": r.file, "line": r.line} if r.file else {}
    unmapped: dict[str, Any] = {"frameworks": {k: list(v) for k, v in sorted(f.frameworks.items())}}
    if f.waiver is not None:
        unmapped["waiver"] = f.waiver.to_dict()
    if f.change is not None:
        unmapped["change"] = f.change
    if f.supersedes:
        unmapped["supersedes"] = list(f.supersedes)
    references = list(policy.references) if policy else []
    return _build(
        policy_id=f.policy_id,
        title=(policy.title if policy and policy.title else f.title) or f.policy_id,
        uid=f.fingerprint,
        severity=f.severity,
        message=f.message or f.title,
        activity_id=ACTIVITY_IDS.get(f.change, 1),
        status=status,
        status_detail=detail,
        time_ms=time_ms,
        src_url=references[0] if references else None,
        resource=ResourceDetails(
            uid=f"{r.source}/{r.kind}/{r.id}",
            name=r.name,
            type=r.kind,
            data={"source": r.source, "id": r.id, **location},
        ),
        evidences=[EvidenceArtifacts(name=e.path, data=e.to_dict()) for e in f.evidence],
        remediation=(
            Remediation(desc=f.remediation, references=references or None)
            if f.remediation.strip()
            else None
        ),
        unmapped=unmapped,
    )


def _incomplete(s: SourceStatus, time_ms: int) -> DetectionFinding:
    from py_ocsf_models.events.findings.status_id import StatusID
    from py_ocsf_models.objects.resource_details import ResourceDetails

    return _build(
        policy_id=INCOMPLETE_ID,
        title="Data is missing: findings may be absent",
        uid=fingerprint(INCOMPLETE_ID, "source", s.instance, s.instance),
        severity="critical",
        message=f"data incomplete: {s.instance} ({s.connector}): "
        + ("; ".join(s.errors) or "the snapshot says complete: false"),
        activity_id=1,
        status=StatusID.New,
        status_detail=None,
        time_ms=time_ms,
        src_url=None,
        resource=ResourceDetails(
            uid=s.instance,
            name=s.instance,
            type="source",
            data={"source": s.instance, "id": s.instance, "connector": s.connector},
        ),
        evidences=None,
        remediation=None,
        unmapped=None,
    )


def _build(
    *,
    policy_id: str,
    title: str,
    uid: str,
    severity: str,
    message: str,
    activity_id: int,
    status: Any,
    status_detail: str | None,
    time_ms: int,
    src_url: str | None,
    resource: Any,
    evidences: list[Any] | None,
    remediation: Any,
    unmapped: dict[str, Any] | None,
) -> DetectionFinding:
    """The parts every event shares: metadata, classification, severity and status."""
    from py_ocsf_models.events.findings.activity_id import ActivityID
    from py_ocsf_models.events.findings.detection_finding import DetectionFinding
    from py_ocsf_models.events.findings.detection_finding_type_id import DetectionFindingTypeID
    from py_ocsf_models.events.findings.severity_id import SeverityID
    from py_ocsf_models.objects.analytic import Analytic
    from py_ocsf_models.objects.finding_info import FindingInformation
    from py_ocsf_models.objects.metadata import Metadata
    from py_ocsf_models.objects.product import Product

    from policyengine import __version__

    severity_id = SeverityID(SEVERITY_IDS.get(severity, 0))
    activity = ActivityID(activity_id)
    return DetectionFinding(
        metadata=Metadata(
            product=Product(name=VENDOR, vendor_name=VENDOR, version=__version__),
            event_code=policy_id,
        ),
        activity_id=activity,
        activity_name=activity.name,
        type_uid=DetectionFindingTypeID(2004 * 100 + activity_id),
        type_name=f"Detection Finding: {activity.name}",
        severity_id=severity_id,
        severity=severity_id.name,
        status_id=status,
        status=status.name,
        status_detail=status_detail,
        message=message,
        time=time_ms,
        finding_info=FindingInformation(
            uid=uid,
            title=title,
            desc=message,
            created_time=time_ms,
            src_url=src_url,
            analytic=Analytic(name=policy_id, uid=policy_id, type="Rule", type_id=1),
        ),
        resources=[resource],
        evidences=evidences,
        remediation=remediation,
        unmapped=unmapped,
    )
