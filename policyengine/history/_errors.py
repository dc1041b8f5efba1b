"""History errors: a user can cause them (bad path, concurrent scan), so no tracebacks."""

from __future__ import annotations

from pathlib import Path

from policyengine.errors import Location, PolicyEngineError


class HistoryError(PolicyEngineError):
    """The history database cannot be opened, migrated or written."""

    def __init__(self, message: str, *, path: Path | None = None) -> None:
        super().__init__(message, Location(file=str(path)) if path else None)


class HistoryLockedError(HistoryError):
    """Another scan holds the history (or SQLite stayed busy past the timeout)."""
