"""History errors: a user can cause them (bad path, concurrent scan), so no tracebacks."""

from __future__ import annotations

import functools
import sqlite3
from collections.abc import Callable
from pathlib import Path
from typing import Any, Concatenate, ParamSpec, TypeVar

from policyengine.errors import Location, PolicyEngineError


class HistoryError(PolicyEngineError):
    """The history database cannot be opened, migrated or written."""

    def __init__(self, message: str, *, path: Path | None = None) -> None:
        super().__init__(message, Location(file=str(path)) if path else None)


class HistoryLockedError(HistoryError):
    """Another scan holds the history (or SQLite stayed busy past the timeout)."""


class DamagedHistory(ValueError):
    """A row that cannot be read back (raised without the path; the store adds it)."""


P = ParamSpec("P")
R = TypeVar("R")


def reported(method: Callable[Concatenate[Any, P], R]) -> Callable[Concatenate[Any, P], R]:
    """SQLite errors and damaged rows in a store method become a HistoryError naming the file.

    Without this a damaged page or a dropped table reached the user as an
    internal error (``DatabaseError: database disk image is malformed``).
    """

    @functools.wraps(method)
    def wrapper(store: Any, /, *args: P.args, **kwargs: P.kwargs) -> R:
        try:
            return method(store, *args, **kwargs)
        except DamagedHistory as exc:
            if store.path is None:  # PostgreSQL: the message names the schema
                raise HistoryError(f"{store.target}: {exc}") from None
            raise HistoryError(str(exc), path=store.path) from None
        except sqlite3.DatabaseError as exc:
            raise describe_sqlite_error(exc, store.path) from None
        except Exception as exc:
            if not type(exc).__module__.startswith("psycopg"):
                raise
            from policyengine.history._postgres import describe_pg_error

            raise describe_pg_error(exc, store.target) from None

    return wrapper


def describe_sqlite_error(exc: sqlite3.Error, path: Path) -> HistoryError:
    """One actionable line for what SQLite said about ``path``."""
    text = str(exc)
    if "locked" in text or "busy" in text:
        return HistoryLockedError(
            f"history database stayed busy (another writer): {text}", path=path
        )
    if "readonly" in text or "unable to open" in text:
        return HistoryError(f"cannot write the history database: {text}", path=path)
    if "malformed" in text or "no such table" in text or "no such column" in text:
        return HistoryError(
            f"damaged history database: {text} (restore a backup, or move the file away "
            "to start a new history)",
            path=path,
        )
    if "not a database" in text:
        return HistoryError("not a policyengine history database", path=path)
    return HistoryError(f"history database error: {text}", path=path)
