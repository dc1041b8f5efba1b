"""Fixture files for emulators: ``tests/data/<vendor>/<name>``, JSON, loaded fresh each time."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

DATA = Path(__file__).resolve().parent.parent / "data"

__all__ = ["DATA", "fixture_path", "load_fixture", "read_fixture"]


def fixture_path(vendor: str, name: str = "org.json") -> Path:
    return DATA / vendor / name


def load_fixture(vendor: str, name: str = "org.json") -> Any:
    """The parsed JSON of a vendor's fixture; a new copy per call, so tests may mutate it.

    A missing or broken file fails with its path (and line), not a bare KeyError later.
    """
    return read_fixture(fixture_path(vendor, name))


def read_fixture(path: Path) -> Any:
    """The parsed JSON of a fixture file anywhere (a test's own variant of an org)."""
    try:
        text = path.read_text(encoding="utf-8")
    except OSError as exc:
        raise FileNotFoundError(f"{path}: emulator fixture not readable ({exc.strerror})") from exc
    try:
        return json.loads(text)
    except json.JSONDecodeError as exc:
        raise ValueError(f"{path}:{exc.lineno}: emulator fixture is not JSON: {exc.msg}") from exc
