"""One registration per report format: the module names its own run-folder file."""

from __future__ import annotations

import sys
import types

import pytest

from policyengine import report
from policyengine.errors import PolicyEngineError


def test_every_format_declares_a_distinct_file_name():
    names = {fmt: report.file_name(fmt) for fmt in report.FORMATS}
    assert all(names.values())
    assert len(set(names.values())) == len(names), names
    assert names["json"] == "result.json"
    assert names["html"] == "report.html"


def test_a_format_without_a_file_name_is_refused_not_skipped(monkeypatch):
    # a reporter registered in FORMATS but declaring no FILE_NAME: the scan used to skip it
    module = types.ModuleType("policyengine.report._nofile")
    module.render = lambda result, options: ""  # type: ignore[attr-defined]
    monkeypatch.setitem(sys.modules, module.__name__, module)
    monkeypatch.setitem(report.FORMATS, "nofile", "_nofile")
    with pytest.raises(PolicyEngineError, match="_nofile must define FILE_NAME"):
        report.render("nofile", None)
    with pytest.raises(PolicyEngineError, match="FILE_NAME"):
        report.file_name("nofile")
