"""Helpers: write access-as-code files into a temporary repository and collect them."""

from __future__ import annotations

import textwrap
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from connectors.file import FileConnector

REPO = Path(__file__).resolve().parents[3]
EXAMPLE = REPO / "examples" / "access-as-code"


@pytest.fixture
def write(tmp_path: Path) -> Callable[[str, str], Path]:
    """``write("access/x.yaml", yaml_text)`` -> the file (text is dedented)."""

    def _write(name: str, text: str) -> Path:
        path = tmp_path / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(textwrap.dedent(text).lstrip("\n"), encoding="utf-8")
        return path

    return _write


@pytest.fixture
def collect(tmp_path: Path) -> Callable[..., dict[tuple[str, str], dict[str, Any]]]:
    """Collect ``tmp_path/access`` (or given paths); resources keyed by (kind, id)."""

    def _collect(*paths: str, **options: Any) -> dict[tuple[str, str], dict[str, Any]]:
        targets = [tmp_path / p for p in (paths or ("access",))]
        connector = FileConnector(targets, repo_root=tmp_path, **options)
        return {(r["kind"], r["id"]): r for r in connector.resources()}

    return _collect
