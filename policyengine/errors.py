"""Errors that carry a location a user can act on.

Every error a user can cause (a bad policy, a malformed snapshot, a wrong
option) is a :class:`PolicyEngineError` with a file, line, column and field
where known. The CLI prints ``str(error)`` as one line and chooses the exit
code from the class; it never prints a traceback for these.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True, slots=True)
class Location:
    """Where something came from: ``file:line:col`` and, for records, the field."""

    file: str = ""
    line: int | None = None
    col: int | None = None
    field: str | None = None
    record: int | None = None  # index of a record in a JSON list

    def __str__(self) -> str:
        parts = [self.file or "<input>"]
        if self.line is not None:
            parts.append(str(self.line))
            if self.col is not None:
                parts.append(str(self.col))
        text = ":".join(parts)
        if self.record is not None:
            text += f": record {self.record}"
        return text


class PolicyEngineError(Exception):
    """Base class. ``exit_code`` is what the CLI exits with."""

    exit_code = 2

    def __init__(self, message: str, location: Location | None = None, code: str = "") -> None:
        super().__init__(message)
        self.message = message
        self.location = location
        self.code = code

    def __reduce__(self) -> tuple[object, ...]:
        # keep the location when the error crosses a process boundary (parallel evaluation)
        return (type(self), (self.message, self.location, self.code))

    def __str__(self) -> str:
        """``file:line:col: CODE field 'x': message`` (the parts that are known)."""
        prefix = f"{self.location}: " if self.location else ""
        code = f"{self.code} " if self.code else ""
        field = ""
        if self.location is not None and self.location.field:
            field = f"field '{self.location.field}': "
        return f"{prefix}{code}{field}{self.message}"


class UsageError(PolicyEngineError):
    """Wrong options or arguments."""


class ConfigError(PolicyEngineError):
    """policyengine.yaml, waivers or profile problems."""


class PolicyError(PolicyEngineError):
    """A policy file that does not load, validate or compile."""


class SnapshotError(PolicyEngineError):
    """A snapshot file that cannot be read or does not match the model."""


class IncompleteDataError(PolicyEngineError):
    """Data is missing (a connector failed); a gate must not pass."""

    exit_code = 3


class ConnectorError(PolicyEngineError):
    """A connector could not collect. ``partial`` means some data was written."""

    exit_code = 3


class AuthenticationError(ConnectorError):
    """Credentials were refused: a configuration problem, not missing data."""

    exit_code = 2


class TerminatedError(PolicyEngineError):
    """The process was told to stop (SIGTERM): exit 128 + 15, as a shell reports it."""

    exit_code = 143
