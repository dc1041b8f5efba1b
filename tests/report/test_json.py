"""The JSON report is streamed a batch of findings at a time, byte for byte the whole-document dump."""

from __future__ import annotations

import io
import json

import orjson
import pytest

from policyengine.report import ReportOptions, render, write
from policyengine.report import json as json_report
from tests.findings.samples import diffed_result, finding, plain_result, result


def _whole_document(res) -> bytes:
    return orjson.dumps(res.to_dict(), option=orjson.OPT_INDENT_2) + b"\n"


@pytest.mark.parametrize(
    "res",
    [
        result(),  # no findings: "findings": []
        result(finding("u1")),
        plain_result(),
        diffed_result(),  # waivers, change, resolved findings
        result(*(finding(f"u{i:05d}") for i in range(2 * json_report.BATCH + 3))),
    ],
    ids=["empty", "one", "plain", "diffed", "three-batches"],
)
def test_streamed_json_is_the_whole_document_dump(res):
    handle = io.BytesIO()
    write("json", res, ReportOptions(), handle)
    assert handle.getvalue() == _whole_document(res)
    assert render("json", res) == _whole_document(res).decode()
    assert len(json.loads(handle.getvalue())["findings"]) == len(res.findings)


def test_evaluate_streams_the_json_report_into_the_output_file(tmp_path):
    from policyengine.cli.main import main

    out = tmp_path / "result.json"
    code = main(
        [
            "evaluate",
            "--demo",
            "--format",
            "json",
            "--output",
            str(out),
            "--now",
            "2026-11-01T00:00:00Z",
            "--fail-on",
            "none",
        ]
    )
    assert code == 0
    doc = json.loads(out.read_bytes())
    assert doc["findings"] and doc["summary"]["total"] == len(doc["findings"])
    assert out.read_bytes().endswith(b"}\n")
