"""``--format json``: the public result shape (see ``docs/output.md``).

:func:`write` streams the document to a binary handle, the findings a batch at a
time, so a million findings never exist as one dictionary list, one bytes
object and one string at once; the bytes are exactly those of
``orjson.dumps(result.to_dict(), option=OPT_INDENT_2)`` plus a newline.
"""

from __future__ import annotations

import io
from collections.abc import Callable
from itertools import islice
from typing import IO, Any

import orjson

from policyengine.findings.model import Finding, Result
from policyengine.report import ReportOptions

#: the file this format is written to in a scan's run folder
FILE_NAME = "result.json"

#: findings serialised per orjson call: big enough to amortise the call, small in memory
BATCH = 2048
_FINDINGS_KEY = b'\n  "findings": []'
#: a batch is dumped as ``{"findings": [...]}`` so orjson indents it as deep as the
#: document does; these are the bytes around the items
_BATCH_HEAD = b'{\n  "findings": [\n'
_BATCH_TAIL = b"\n  ]\n}"
#: distinct frameworks mappings converted once (a policy's findings share the policy's)
_FRAMEWORKS_KEPT = 4096


def render(result: Result, options: ReportOptions) -> str:
    buffer = io.BytesIO()
    write(result, options, buffer)
    return buffer.getvalue().decode()


def write(result: Result, options: ReportOptions, handle: IO[bytes]) -> None:
    """Write the JSON document of ``result`` to ``handle``."""
    indent = orjson.OPT_INDENT_2
    head = orjson.dumps(result.to_dict(findings=False), option=indent)
    before, found, after = head.partition(_FINDINGS_KEY)
    assert found, "the result document has a top-level findings list"
    handle.write(before)
    findings = result.findings
    encoded = getattr(findings, "encoded", None)
    if not findings:
        handle.write(_FINDINGS_KEY)
    elif encoded is not None and not getattr(findings, "is_materialised", True):
        # an evaluation's packed findings (policyengine.engine.packed): encoded by the workers
        handle.write(_BATCH_HEAD[1:])
        items = encoded()
        chunk = list(islice(items, BATCH))
        handle.write(b",\n".join(chunk))  # one write a batch, not two an item
        while chunk := list(islice(items, BATCH)):
            handle.write(b",\n")
            handle.write(b",\n".join(chunk))
        handle.write(b"\n  ]")
    else:
        handle.write(_BATCH_HEAD[1:])
        encode = _encoder()
        for start in range(0, len(findings), BATCH):
            if start:
                handle.write(b",\n")
            batch = [encode(f) for f in findings[start : start + BATCH]]
            text = orjson.dumps({"findings": batch}, option=indent)
            handle.write(memoryview(text)[len(_BATCH_HEAD) : -len(_BATCH_TAIL)])
        handle.write(b"\n  ]")
    handle.write(after)
    handle.write(b"\n")


def item_encoder() -> Callable[[Finding], bytes]:
    """A finding's item of the ``findings`` list, as :func:`write` writes it (indented)."""
    encode = _encoder()
    indent = orjson.OPT_INDENT_2
    head, tail = len(_BATCH_HEAD), len(_BATCH_TAIL)

    def item(f: Finding) -> bytes:
        return orjson.dumps({"findings": [encode(f)]}, option=indent)[head:-tail]

    return item


def _encoder() -> Callable[[Finding], dict[str, Any]]:
    """``Finding.to_dict`` for orjson, with fewer objects and calls per finding.

    orjson writes tuples as lists, so supersedes go in as they are, and a
    policy's frameworks are converted once per report. (An :class:`Evidence`
    dataclass would be written as its fields too, but orjson reads a dataclass
    much slower than it builds a dict here.)
    """
    #: id(frameworks) -> (the mapping, held so that its id is not reused; its JSON form)
    frameworks_of: dict[int, tuple[Any, dict[str, list[str]]]] = {}

    def encode(f: Finding) -> dict[str, Any]:
        r = f.resource
        resource: dict[str, Any] = {"kind": r.kind, "source": r.source, "id": r.id, "name": r.name}
        if r.file:
            resource["location"] = {"file": r.file, "line": r.line}
        mapping = f.frameworks
        known = frameworks_of.get(id(mapping))
        if known is None:
            if len(frameworks_of) >= _FRAMEWORKS_KEPT:  # one per finding (from_dict): bounded
                frameworks_of.clear()
            known = frameworks_of[id(mapping)] = (mapping, {k: list(v) for k, v in mapping.items()})
        frameworks = known[1]
        evidence = f.evidence
        if len(evidence) == 1:  # most findings: no list comprehension (a frame in 3.11)
            e = evidence[0]
            evidence_list = [{"path": e.path, "actual": e.actual, "expected": e.expected}]
        else:
            evidence_list = [
                {"path": e.path, "actual": e.actual, "expected": e.expected} for e in evidence
            ]
        out: dict[str, Any] = {
            "policy_id": f.policy_id,
            "severity": f.severity,
            "title": f.title,
            "resource": resource,
            "message": f.message,
            "evidence": evidence_list,
            "remediation": f.remediation,
            "frameworks": frameworks,
            "fingerprint": f.fingerprint,
            "waived": f.waived,
        }
        if f.waiver is not None:
            out["waiver"] = f.waiver.to_dict()
        if f.change is not None:
            out["change"] = f.change
        if f.supersedes:
            out["supersedes"] = f.supersedes
        if f.folded:
            out["folded"] = [encode(g) for g in f.folded]
        return out

    return encode
