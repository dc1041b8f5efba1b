"""One check for every generated docs page: `policyengine docs PAGE --check` sees a stale copy."""

from __future__ import annotations

from pathlib import Path

import pytest

from policyengine.cli.main import main


def assert_check_reports_a_stale_page(
    page: str, doc: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str], old: str, new: str
) -> None:
    """Make a stale copy of ``doc`` (``old`` -> ``new``); --check says so, a rewrite restores it."""
    stale = tmp_path / doc.name
    stale.write_text(doc.read_text(encoding="utf-8").replace(old, new))
    assert main(["docs", page, "--output", str(stale), "--check"]) == 1
    assert "out of date" in capsys.readouterr().out
    assert main(["docs", page, "--output", str(stale)]) == 0
    assert stale.read_text(encoding="utf-8") == doc.read_text(encoding="utf-8")
