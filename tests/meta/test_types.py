"""The type checker runs with the tests, so CI fails on a type error.

mypy's settings are in pyproject.toml (``[tool.mypy]``): all of policyengine and connectors,
strict on the model and the connector kit, which third-party connectors are written against.
"""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]


def test_mypy_finds_no_type_errors() -> None:
    proc = subprocess.run(
        [sys.executable, "-m", "mypy", "--no-error-summary", "--cache-dir", str(REPO / ".mypy_cache")],
        cwd=REPO, capture_output=True, text=True, timeout=900,
    )  # fmt: skip
    assert proc.returncode == 0, proc.stdout + proc.stderr


def test_the_contract_and_the_kit_are_checked_strictly() -> None:
    text = (REPO / "pyproject.toml").read_text(encoding="utf-8")
    strict = text.split('module = ["policyengine.model.*", "policyengine.connector.*"]', 1)
    assert len(strict) == 2 and strict[1].lstrip().startswith("strict = true")
