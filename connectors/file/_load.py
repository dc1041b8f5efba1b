"""Find, parse and validate access-as-code files, keeping every position.

Parsing is the safe loader shared with policies
(:mod:`policyengine.policy.yamlload`): no tags, no anchors or aliases, no
duplicate keys, at most 1 MiB per file. Validation collects every error of
every file before giving up, so one run of the pre-commit hook shows them all,
each as ``file:line:col: CODE field 'accounts[2].mfa.methods[0]': message``.
"""

from __future__ import annotations

import difflib
from collections.abc import Hashable, Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any, cast

from connectors.file._schema import DOCUMENT, SECTIONS, TOP_LEVEL, AccessValidator
from policyengine.errors import ConfigError, Location, PolicyEngineError, PolicyError
from policyengine.policy.yamlload import MAX_BYTES, Positions, load_yaml_text, position_of

#: Refuse to walk a directory holding more YAML files than this (a wrong --path).
MAX_FILES = 10_000
SUFFIXES = (".yaml", ".yml")


class AccessFileError(ConfigError):
    """One problem in one access-as-code file (exit code 2)."""


class AccessValidationError(AccessFileError):
    """Several problems; ``str()`` is one ``file:line:col: ...`` line per problem."""

    def __init__(self, errors: Sequence[PolicyEngineError]) -> None:
        first = errors[0]
        super().__init__(first.message, first.location, first.code)
        self.errors = tuple(errors)

    def __str__(self) -> str:
        return "\n".join(ConfigError.__str__(e) for e in self.errors)


@dataclass(frozen=True, slots=True)
class AccessFile:
    """One parsed, valid file. ``name`` is its path relative to the repository root."""

    name: str
    data: Mapping[str, Any]
    positions: Positions

    def line_of(self, path: tuple[Hashable, ...]) -> int:
        """Line of the value at ``path`` (or its closest parent); 1 when unknown."""
        line, _col = position_of(self.positions, path)
        return line or 1


def discover(paths: Iterable[Path]) -> list[Path]:
    """Files named by ``paths``: files as given, directories walked for ``*.yaml``/``*.yml``.

    Hidden files and directories (``.git``, ``.venv``) are skipped. The order is
    stable (sorted within each directory walk), duplicates are dropped.
    """
    out: list[Path] = []
    seen: set[Path] = set()
    for path in paths:
        if path.is_dir():
            found = sorted(
                p
                for p in path.rglob("*")
                if p.suffix in SUFFIXES
                and p.is_file()
                and not any(part.startswith(".") for part in p.relative_to(path).parts)
            )
            if len(found) > MAX_FILES:
                raise AccessFileError(
                    f"more than {MAX_FILES} YAML files under this directory; "
                    "point --path at the access-as-code directory",
                    Location(str(path)),
                    "AC001",
                )
        elif path.is_file():
            found = [path]
        else:
            raise AccessFileError("no such file or directory", Location(str(path)), "AC001")
        for p in found:
            key = p.resolve()
            if key not in seen:
                seen.add(key)
                out.append(p)
    return out


def relative_name(path: Path, repo_root: Path) -> str:
    """``path`` relative to ``repo_root`` with forward slashes (SARIF wants URIs)."""
    try:
        return path.resolve().relative_to(repo_root.resolve()).as_posix()
    except ValueError:
        return path.as_posix()  # outside the repository: keep what the user gave


def find_repo_root(start: Path) -> Path:
    """The nearest directory at or above ``start`` holding ``.git``; else ``start``."""
    start = start.resolve()
    for candidate in (start, *start.parents):
        if (candidate / ".git").exists():
            return candidate
    return start


def load(path: Path, name: str) -> tuple[AccessFile | None, list[PolicyEngineError]]:
    """Parse and validate one file; return it (None when unusable) and its errors."""
    error = cast(type[PolicyError], AccessFileError)
    try:
        raw = path.read_bytes()
    except OSError as exc:
        return None, [error(f"cannot read: {exc.strerror}", Location(name), "AC001")]
    if len(raw) > MAX_BYTES:
        return None, [error(f"file is larger than {MAX_BYTES} bytes", Location(name), "AC001")]
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError as exc:
        return None, [error(f"not UTF-8 (byte {exc.start})", Location(name), "AC001")]
    try:
        data, positions = load_yaml_text(text, name, error)
    except (AccessFileError, PolicyError) as exc:
        return None, [exc]
    if data is None:
        return AccessFile(name, {}, positions), []  # an empty file declares nothing
    errors = validate(data, name, positions)
    if errors:
        return None, errors
    return AccessFile(name, data, positions), []


def validate(data: Any, name: str, positions: Positions) -> list[PolicyEngineError]:
    """Check ``data`` against the format; errors carry file:line:col and the field."""
    if not isinstance(data, Mapping):
        line, col = position_of(positions, ())
        return [
            AccessFileError(
                "an access file must be a mapping with keys like accounts:, groups:, integrations:",
                Location(name, line, col),
                "AC100",
            )
        ]
    # Items are validated one by one with one validator per section: cerberus
    # validating a 5,000-item list in one call is many times slower.
    raw_errors: list[tuple[tuple[Hashable, ...], str]] = []
    top = _validator(None)
    if not top.validate(dict(data), normalize=False):
        raw_errors.extend(_flatten(top.errors, ()))
    for section in SECTIONS:
        items = data.get(section)
        if not isinstance(items, list):
            continue  # absent, null, or already reported as not a list
        item_validator = _validator(section)
        for i, item in enumerate(items):
            if not isinstance(item, Mapping):
                raw_errors.append(((section, i), "must be of dict type"))
            elif not item_validator.validate(dict(item), normalize=False):
                raw_errors.extend(_flatten(item_validator.errors, (section, i)))
    out: list[PolicyEngineError] = []
    for path, message in raw_errors:
        code = "AC101"
        if message == "unknown field":
            code = "AC100"
            allowed = list(_schema_at(path[:-1]))
            close = difflib.get_close_matches(str(path[-1]), allowed, n=1, cutoff=0.6)
            hint = f" (did you mean '{close[0]}'?)" if close else ""
            message = f"unknown field{hint}; allowed: {', '.join(allowed)}"
        elif message == "required field":
            code = "AC100"
        elif message == "must be of string type" and isinstance(_value_at(data, path), bool):
            # YAML 1.1 reads yes/no/on/off as booleans: a classic id surprise
            message += " (YAML reads yes/no/on/off/true/false as booleans: quote it)"
        # a bad value is pointed at the value, a bad or missing key at the key
        value_pos = positions.get((*path, "<value>")) if code == "AC101" else None
        line, col = value_pos or position_of(positions, path)
        out.append(AccessFileError(message, Location(name, line, col, field=dotted(path)), code))
    return out


_VALIDATORS: dict[str | None, AccessValidator] = {}


def _validator(section: str | None) -> AccessValidator:
    """A reusable validator for a section's items (None: the top level)."""
    if section not in _VALIDATORS:
        _VALIDATORS[section] = AccessValidator(SECTIONS[section] if section else TOP_LEVEL)
    return _VALIDATORS[section]


def dotted(path: Sequence[Hashable]) -> str:
    """``('accounts', 2, 'mfa')`` -> ``accounts[2].mfa``."""
    text = ""
    for part in path:
        if isinstance(part, int):
            text += f"[{part}]"
        else:
            text += f".{part}" if text else str(part)
    return text


def _flatten(errors: Any, path: tuple[Hashable, ...]) -> Iterator[tuple[tuple[Hashable, ...], str]]:
    # cerberus nests errors as {field: [message | {index_or_field: [...]}]}
    if isinstance(errors, Mapping):
        for key, value in errors.items():
            yield from _flatten(value, (*path, key))
    elif isinstance(errors, list):
        for item in errors:
            if isinstance(item, Mapping | list):
                yield from _flatten(item, path)
            else:
                yield path, str(item)
    else:
        yield path, str(errors)


def _value_at(data: Any, path: Sequence[Hashable]) -> Any:
    for part in path:
        try:
            data = data[part]
        except (KeyError, IndexError, TypeError):
            return None
    return data


def _schema_at(path: Sequence[Hashable]) -> Mapping[str, Any]:
    """The mapping schema that applies at ``path`` (for "did you mean" hints)."""
    schema: Mapping[str, Any] = DOCUMENT
    for part in path:
        if isinstance(part, int):
            continue
        rule = schema.get(str(part)) or {}
        inner = rule.get("schema") or {}
        if rule.get("type") == "list":
            inner = inner.get("schema") or {}
        if not isinstance(inner, Mapping) or not inner:
            return {}
        schema = inner
    return schema
