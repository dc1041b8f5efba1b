"""Where a history lives: a SQLite file, or a schema in a PostgreSQL database.

``history: .policyengine/history.db`` is a file; ``history:
postgresql://scanner@db.internal:5432/policyengine?schema=acme`` is the
PostgreSQL schema ``acme`` (default ``policyengine``) of that database. Each
config (tenant) gets its own schema, so tenants never see or resolve each
other's findings and their scans write at once; two scans of one schema take
turns on an advisory lock.

The password never sits in the URL (refused): it comes from
``history_password_env`` / ``history_password_file`` in the config, or from
libpq's own ``PGPASSWORD`` / ``PGPASSFILE`` / ``~/.pgpass``.

>>> parse_history("postgresql://scanner@db:5432/pe?schema=acme").schema
'acme'
>>> parse_history("history.db")
PosixPath('history.db')
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import parse_qsl, urlencode, urlsplit, urlunsplit

from policyengine.errors import UsageError

SCHEMES = ("postgresql://", "postgres://")
DEFAULT_SCHEMA = "policyengine"
_SCHEMA_NAME = re.compile(r"^[a-z_][a-z0-9_]{0,62}$")


@dataclass(frozen=True, slots=True)
class PostgresHistory:
    """A history in PostgreSQL: the libpq URL (no password), its schema, and where the password is."""

    url: str
    schema: str = DEFAULT_SCHEMA
    password_env: str | None = None
    password_file: Path | None = None

    def __str__(self) -> str:  # shown in messages and `history` output; never has a password
        return f"{self.url} (schema {self.schema})"


HistoryTarget = Path | PostgresHistory


def is_postgres(text: str) -> bool:
    return text.startswith(SCHEMES)


def parse_history(
    text: str,
    *,
    base: Path | None = None,
    password_env: str | None = None,
    password_file: Path | None = None,
    what: str = "history",
) -> HistoryTarget:
    """A file path (relative to ``base``) or a :class:`PostgresHistory` for a postgresql:// URL."""
    if not is_postgres(text):
        return (base / text) if base is not None else Path(text)
    from policyengine.urls import refuse_password

    refuse_password(text, what)
    parts = urlsplit(text)
    query = parse_qsl(parts.query, keep_blank_values=True)
    if any(key == "password" for key, _ in query):
        raise UsageError(
            f"{what}: the URL must not contain a password; use history_password_env or "
            "history_password_file (or PGPASSWORD / PGPASSFILE)"
        )
    schema = DEFAULT_SCHEMA
    rest = []
    for key, value in query:
        if key == "schema":
            schema = value
        else:
            rest.append((key, value))
    if not _SCHEMA_NAME.match(schema):
        raise UsageError(
            f"{what}: schema {schema!r} must be lower-case letters, digits and _ "
            "(at most 63, not starting with a digit)"
        )
    if not parts.hostname and not parts.path.strip("/"):
        raise UsageError(f"{what}: {text!r} names no host or database")
    url = urlunsplit((parts.scheme, parts.netloc, parts.path, urlencode(rest), ""))
    return PostgresHistory(url, schema, password_env, password_file)
