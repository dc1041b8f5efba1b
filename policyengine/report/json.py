"""``--format json``: the public result shape (see ``docs/output.md``).

:func:`write` streams the document to a binary handle, the findings a batch at a
time, so a million findings never exist as one dictionary list, one bytes
object and one string at once; the bytes are exactly those of
``orjson.dumps(result.to_dict(), option=OPT_INDENT_2)`` plus a newline.
"""

from __future__ import annotations

import io
from collections.abc import Callable, Sequence
from typing import IO, TYPE_CHECKING, Any

import orjson

from policyengine.findings.model import Finding, Result
from policyengine.report import ReportOptions

if TYPE_CHECKING:
    from policyengine.engine.evaluate import FindingParts
    from policyengine.policy.compiled import CompiledPolicy

#: the file this format is written to in a scan's run folder
FILE_NAME = "result.json"

#: findings serialised per orjson call: big enough to amortise the call, small in memory
BATCH = 2048
#: bytes of encoded items (``PackedFindings.encoded``) written per call
_WRITE_BYTES = 2 << 20
_FINDINGS_KEY = b'\n  "findings": []'
#: a batch is dumped as ``{"findings": [...]}`` so orjson indents it as deep as the
#: document does; these are the bytes around the items
_BATCH_HEAD = b'{\n  "findings": [\n'
_BATCH_TAIL = b"\n  ]\n}"
#: between two items of a dumped batch: an item's opening brace is the only ``{`` at the
#: items' depth (orjson's indented output has no raw newline inside a string)
_ITEM_SEP = b",\n    {"


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
        # runs of items, each up to a block's: one write per _WRITE_BYTES, not two an item
        pending: list[bytes] = []
        size, sep = 0, b""
        for run in encoded():
            pending.append(run)
            size += len(run)
            if size >= _WRITE_BYTES:
                handle.write(sep)
                handle.write(b",\n".join(pending))
                pending, size, sep = [], 0, b",\n"
        if pending:
            handle.write(sep)
            handle.write(b",\n".join(pending))
        handle.write(b"\n  ]")
    else:
        handle.write(_BATCH_HEAD[1:])
        for start in range(0, len(findings), BATCH):
            if start:
                handle.write(b",\n")
            batch = [f.to_dict() for f in findings[start : start + BATCH]]
            text = orjson.dumps({"findings": batch}, option=indent)
            handle.write(memoryview(text)[len(_BATCH_HEAD) : -len(_BATCH_TAIL)])
        handle.write(b"\n  ]")
    handle.write(after)
    handle.write(b"\n")


def item_encoder() -> Callable[[Finding], bytes]:
    """A finding's item of the ``findings`` list, as :func:`write` writes it (indented)."""
    indent = orjson.OPT_INDENT_2
    head, tail = len(_BATCH_HEAD), len(_BATCH_TAIL)

    def item(f: Finding) -> bytes:
        return orjson.dumps({"findings": [f.to_dict()]}, option=indent)[head:-tail]

    return item


#: the findings folded into one, as (policy index, parts)
Folded = tuple[tuple[int, "FindingParts"], ...]


def parts_encoder(
    policies: Sequence[CompiledPolicy],
) -> Callable[[int, FindingParts, Folded], dict[str, Any]]:
    """``_build(policies, i, parts, folded).to_dict()`` (``engine.packed``), from the parts.

    A fresh finding's item without building the :class:`Finding`: the policy's fields
    (id, severity, title, frameworks as lists) are converted once per policy.
    """
    constant: dict[int, tuple[str, str, str, dict[str, list[str]]]] = {}

    def policy_fields(i: int) -> tuple[str, str, str, dict[str, list[str]]]:
        known = constant.get(i)
        if known is None:
            d = policies[i].definition
            frameworks = {k: list(v) for k, v in d.frameworks.items()}
            known = constant[i] = (d.id, policies[i].severity, d.title, frameworks)
        return known

    def one(i: int, parts: FindingParts) -> dict[str, Any]:
        kind, source, rid, name, file, line, message, evidence, remediation, print_ = parts
        policy_id, severity, title, frameworks = policy_fields(i)
        resource: dict[str, Any] = {"kind": kind, "source": source, "id": rid, "name": name}
        if file:
            resource["location"] = {"file": file, "line": line}
        if len(evidence) == 1:  # most findings: no list comprehension (a frame in 3.11)
            path, actual, expected = evidence[0]
            evidence_list = [{"path": path, "actual": actual, "expected": expected}]
        else:
            evidence_list = [{"path": p, "actual": a, "expected": x} for p, a, x in evidence]
        return {
            "policy_id": policy_id,
            "severity": severity,
            "title": title,
            "resource": resource,
            "message": message,
            "evidence": evidence_list,
            "remediation": remediation,
            "frameworks": frameworks,
            "fingerprint": print_,
            "waived": False,
        }

    def encode(i: int, parts: FindingParts, folded: Folded) -> dict[str, Any]:
        out = one(i, parts)
        if folded:
            out["supersedes"] = [policy_fields(j)[0] for j, _ in folded]
            out["folded"] = [one(j, p) for j, p in folded]
        return out

    return encode


def dump_items(items: list[dict[str, Any]]) -> tuple[bytes, list[int]]:
    """Many encoded items in one orjson call, and where each starts and ends in it.

    Item ``k`` is ``dumped[bounds[k]:bounds[k + 1] - 2]`` (``,\\n`` between items),
    exactly what :func:`item_encoder` makes of it; measured at 1024 items, slicing
    here costs less than an orjson call per item, cutting into bytes objects more.
    """
    dumped = orjson.dumps({"findings": items}, option=orjson.OPT_INDENT_2)
    find = dumped.find
    pos = len(_BATCH_HEAD)
    bounds = [pos]
    for _ in range(len(items) - 1):
        pos = find(_ITEM_SEP, pos) + 2
        if pos == 1:
            raise AssertionError("fewer item boundaries than items")
        bounds.append(pos)
    # as many boundaries as items and no more: these are the items' (not inside one)
    assert find(_ITEM_SEP, pos) == -1, "more item boundaries than items"
    bounds.append(len(dumped) - len(_BATCH_TAIL) + 2)
    return dumped, bounds
