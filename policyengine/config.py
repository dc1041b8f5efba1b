"""``policyengine.yaml``: the organisation's settings.

Everything is optional; an absent file means built-in defaults. Paths in the
file are relative to the file. Unknown keys are errors with file:line:col.
Secrets are never written here: connectors name environment variables or
files (``password_env``, ``token_file``).
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from policyengine.errors import ConfigError, Location, UsageError
from policyengine.findings.model import SEVERITIES
from policyengine.lintcodes import E001, E101
from policyengine.policy.yamlload import Positions, load_yaml_file, position_of
from policyengine.report import FORMATS

if TYPE_CHECKING:  # the history package is imported only for a postgresql:// history
    from policyengine.history._target import PostgresHistory

DEFAULT_CONFIG_NAME = "policyengine.yaml"

CONFIG_SCHEMA: dict[str, Any] = {
    "profile": {"type": "string"},
    "policies": {"type": "dict", "valuesrules": {"type": "dict"}},
    "policy_paths": {"type": "list", "schema": {"type": "string"}},
    "waivers": {"type": "string"},
    "waiver_max_days": {"type": "integer", "min": 1, "max": 3650},
    "history": {"type": "string"},  # a SQLite file, or postgresql://user@host:port/db?schema=
    "history_password_env": {"type": "string", "excludes": "history_password_file"},
    "history_password_file": {"type": "string", "excludes": "history_password_env"},
    "output_dir": {"type": "string"},
    "fail_on": {"type": "string", "allowed": [*SEVERITIES, "none"]},
    "max_concurrency": {"type": "integer", "min": 1},
    "connectors": {
        "type": "list",
        "schema": {
            "type": "dict",
            "schema": {
                "instance": {
                    "type": "string",
                    "required": True,
                    "regex": r"^[A-Za-z0-9][A-Za-z0-9_.-]*$",
                },
                "type": {"type": "string", "required": True},
            },
            "allow_unknown": True,  # the connector's own options, checked by the connector
        },
    },
    "reports": {
        "type": "list",
        "schema": {
            "type": "string",
            "allowed": list(FORMATS),
        },
    },
}


@dataclass(frozen=True, slots=True)
class ConnectorInstance:
    instance: str
    type: str
    options: Mapping[str, Any]
    line: int | None = None
    #: write credentials for ``remediate apply`` (never used to collect); None: not configured
    remediation: Mapping[str, Any] | None = None


@dataclass(frozen=True, slots=True)
class Config:
    path: Path | None = None
    profile: str | None = None
    policy_overrides: Mapping[str, Mapping[str, Any]] = field(default_factory=dict)
    policy_paths: tuple[Path, ...] = ()
    waivers_path: Path | None = None
    waiver_max_days: int = 90
    #: a SQLite file, or a PostgresHistory (``history: postgresql://...``)
    history_path: Path | PostgresHistory | None = None
    output_dir: Path | None = None
    fail_on: str | None = None
    max_concurrency: int = 4
    connectors: tuple[ConnectorInstance, ...] = ()
    reports: tuple[str, ...] = ("json", "html", "markdown")
    raw: Mapping[str, Any] = field(default_factory=dict)
    positions: Positions = field(default_factory=dict, repr=False, compare=False)

    def location(self, *path: Any) -> Location:
        line, col = position_of(self.positions, tuple(path))
        return Location(str(self.path) if self.path else DEFAULT_CONFIG_NAME, line, col)


def _relative_to(base: Path, key: str, value: Any) -> Any:
    """Connector options that name files (``*_file``, ``path``) are relative to the config."""
    if not (key.endswith("_file") or key in ("path", "paths", "repo_root")):
        return value
    if isinstance(value, str) and value and not Path(value).is_absolute():
        return str(base / value)
    if isinstance(value, list):
        return [_relative_to(base, key, v) for v in value]
    return value


def _history(
    data: Mapping[str, Any], rel: Callable[[str | None], Path | None], where: str
) -> Path | PostgresHistory | None:
    """``history:`` as a file (relative to the config) or a PostgreSQL history."""
    value = data.get("history")
    if not value or not str(value).startswith(("postgresql://", "postgres://")):
        if data.get("history_password_env") or data.get("history_password_file"):
            raise UsageError(f"{where}: history_password_* needs a postgresql:// history")
        return rel(value)
    from policyengine.history._target import parse_history  # psycopg stays unimported

    return parse_history(
        value,
        password_env=data.get("history_password_env"),
        password_file=rel(data.get("history_password_file")),
        what=f"{where}: history",
    )


def load_config(path: Path | None) -> Config:
    """Load ``path``; with None, ``./policyengine.yaml`` if present, else defaults."""
    if path is None:
        candidate = Path(DEFAULT_CONFIG_NAME)
        if not candidate.is_file():
            return Config()
        path = candidate
    if not path.is_file():
        raise ConfigError("config file not found", Location(str(path)), E001)
    data, positions = load_yaml_file(path, ConfigError)
    if data is None:
        data = {}
    from policyengine.policy.schema import validate

    problems = validate(
        data,
        CONFIG_SCHEMA,
        file=str(path),
        positions=positions,
        error=ConfigError,
        what="config",
    )
    if problems:
        raise problems[0]
    base = path.parent

    def rel(value: str | None) -> Path | None:
        return (base / value) if value else None

    connectors = []
    seen: set[str] = set()
    for i, item in enumerate(data.get("connectors") or []):
        if item["instance"] in seen:
            line, col = position_of(positions, ("connectors", i, "instance"))
            raise ConfigError(
                f"duplicate connector instance {item['instance']!r}",
                Location(str(path), line, col),
                E101,
            )
        seen.add(item["instance"])
        options = {
            k: _relative_to(base, k, v)
            for k, v in item.items()
            if k not in ("instance", "type", "remediation")
        }
        line, _ = position_of(positions, ("connectors", i))
        remediation = item.get("remediation")
        if remediation is not None and not isinstance(remediation, Mapping):
            line, col = position_of(positions, ("connectors", i, "remediation"))
            raise ConfigError(
                "remediation: must be a mapping of write-credential options",
                Location(str(path), line, col, field="remediation"),
                E101,
            )
        if remediation is not None:
            remediation = {k: _relative_to(base, k, v) for k, v in remediation.items()}
        connectors.append(
            ConnectorInstance(item["instance"], item["type"], options, line, remediation)
        )
    return Config(
        path=path,
        profile=data.get("profile"),
        policy_overrides=data.get("policies") or {},
        policy_paths=tuple(base / p for p in data.get("policy_paths") or ()),
        waivers_path=rel(data.get("waivers")),
        waiver_max_days=data.get("waiver_max_days", 90),
        history_path=_history(data, rel, str(path)),
        output_dir=rel(data.get("output_dir")),
        fail_on=data.get("fail_on"),
        max_concurrency=data.get("max_concurrency", 4),
        connectors=tuple(connectors),
        reports=tuple(data.get("reports") or ("json", "html", "markdown")),
        raw=data,
        positions=positions,
    )
