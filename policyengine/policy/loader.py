"""Find, parse and validate policy files into :class:`PolicyDefinition` objects.

A PATH is a policy file or a folder searched recursively for ``*.yaml`` /
``*.yml``; test files (``*.test.yaml``) and ``profiles/`` are skipped. A file
holds one policy or a list of them. Definitions are validated (schema,
conditions, templates, parameters) when loaded, so ``lint`` reports every
problem with its position; binding to a clock and parameter overrides happens
in :mod:`policyengine.policy.compiled`.
"""

from __future__ import annotations

import datetime as dt
import os
import re
from collections.abc import Hashable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

from policyengine.errors import Location, PolicyError
from policyengine.lintcodes import E001, E101, E107
from policyengine.policy.schema import CONNECTOR_KEY_PATTERN, POLICY_SCHEMA, validate
from policyengine.policy.yamlload import Positions, load_yaml_file, position_of

POLICY_SUFFIXES = (".yaml", ".yml")
TEST_SUFFIXES = (".test.yaml", ".test.yml")


@dataclass(frozen=True, slots=True)
class PolicyDefinition:
    """A validated policy as written, before binding to a clock and overrides."""

    id: str
    title: str
    severity: str
    resource: str
    description: str
    rationale: str
    match: Mapping[str, Any] | None
    require: Mapping[str, Any]
    on_missing: str
    message: str
    remediation: Mapping[str, str]
    params: Mapping[str, Any]
    frameworks: Mapping[str, tuple[str, ...]]
    references: tuple[str, ...]
    tags: tuple[str, ...]
    enabled: bool
    supersedes: tuple[str, ...]
    file: str
    line: int
    positions: Positions = field(repr=False, compare=False)
    prefix: tuple[Hashable, ...] = ()
    #: parameters the conditions and templates refer to (for lint W202)
    used_params: frozenset[str] = frozenset()
    #: remediation actions by connector type: ``{"salesforce": (("freeze_user", {}),)}``
    actions: Mapping[str, tuple[tuple[str, Mapping[str, Any]], ...]] = field(default_factory=dict)

    def location(self, *path: Hashable) -> Location:
        line, col = position_of(self.positions, (*self.prefix, *path))
        return Location(self.file, line, col)


class PolicyErrors(PolicyError):
    """Several policy errors at once (lint shows them all; evaluate stops)."""

    def __init__(self, errors: Sequence[PolicyError]) -> None:
        first = errors[0]
        more = f" (and {len(errors) - 1} more errors)" if len(errors) > 1 else ""
        super().__init__(first.message + more, first.location, first.code)
        self.errors = list(errors)

    def __reduce__(self) -> tuple[object, ...]:
        return (type(self), (self.errors,))


def builtin_policy_dir() -> Path:
    """The built-in library: inside the wheel, or ``policies/`` of a source checkout."""
    package = Path(__file__).resolve().parent.parent
    bundled = package / "_library" / "policies"
    if bundled.is_dir():
        return bundled
    return package.parent / "policies"


_NOT_POLICY_DIRS = frozenset({"node_modules", "venv", "__pycache__", "site-packages"})


def kind_of_file(path: Path) -> str:
    """What a YAML file in a policy repository is: policy, test, config, waivers or profile."""
    name = path.name
    if name.endswith(TEST_SUFFIXES):
        return "test"
    if name in (
        "policyengine.yaml",
        "policyengine.yml",
        ".pre-commit-config.yaml",
        ".pre-commit-hooks.yaml",
    ):
        return "config"
    # by content first: `exceptions.yaml` may hold waivers, `waivers-x.yaml` a policy
    held = _top_level_key(path)
    if held == "waivers":
        return "waivers"
    if held != "id" and (name.startswith("waivers") or path.parent.name == "waivers"):
        return "waivers"
    if path.parent.name == "profiles":
        return "profile"
    return "policy"


# A waivers file holds a top-level `waivers:` list (flow `[` or a block `- ` after
# blank/comment lines; `waivers: file.yaml` in a config is not one); a policy
# holds `id:` (or a list of `- id:`).
_TOP_LEVEL_KEY = re.compile(
    rb"^(?:(waivers)[ \t]*:[ \t]*(?:\[|(?:#[^\n]*)?\r?\n(?:[ \t]*(?:#[^\n]*)?\r?\n)*[ \t]*- )"
    rb"|(?:- )?(id)[ \t]*:)",
    re.MULTILINE,
)


def _top_level_key(path: Path) -> str | None:
    """What a YAML file holds, from its first top-level ``waivers:`` or ``id:`` key
    (cheap: no YAML parse, the first 64 KiB). None when unreadable or neither."""
    try:
        with path.open("rb") as handle:
            head = handle.read(1 << 16)
    except OSError:
        return None
    found = _TOP_LEVEL_KEY.search(head)
    return (found.group(1) or found.group(2)).decode() if found else None


def _files_under(root: Path) -> list[Path]:
    """Every file below ``root``, sorted; symlinked folders are not followed.

    Not ``rglob``: it skips a folder it may not read without a word, and a
    policy folder that yields no policies passes every gate.
    """

    def refuse(exc: OSError) -> None:
        where = str(exc.filename or root)
        raise PolicyError(f"cannot read folder: {exc.strerror}", Location(where), E001)

    files = [
        Path(folder, name) for folder, _, names in os.walk(root, onerror=refuse) for name in names
    ]
    return sorted(files)


def discover(paths: Iterable[Path]) -> list[Path]:
    """Policy files under ``paths`` (sorted; tests, profiles, config, waivers and
    hidden or virtual-environment folders skipped)."""
    found: list[Path] = []
    for path in paths:
        if path.is_dir():
            for candidate in _files_under(path):
                if not candidate.is_file() or candidate.suffix not in POLICY_SUFFIXES:
                    continue
                parts = candidate.relative_to(path).parts
                if (
                    kind_of_file(candidate) != "policy"
                    or "profiles" in parts
                    or any(p.startswith(".") or p in _NOT_POLICY_DIRS for p in parts[:-1])
                ):
                    continue
                found.append(candidate)
        elif path.exists():
            found.append(path)
        else:
            raise PolicyError("no such policy file or folder", Location(str(path)), E001)
    return found


def load_definitions(
    paths: Iterable[Path], *, use_cache: bool = False
) -> tuple[list[PolicyDefinition], list[PolicyError]]:
    """Load every policy under ``paths``; return definitions and all errors found.

    ``use_cache`` (``lint``) reuses what an earlier run found in unchanged files.
    """
    from policyengine.policy import cache

    cached = cache.load() if use_cache else {}
    fresh: dict[tuple[str, int, int], Any] = {}
    definitions: list[PolicyDefinition] = []
    errors: list[PolicyError] = []
    seen: dict[str, PolicyDefinition] = {}
    for file in discover(paths):
        key = cache.file_key(file) if use_cache else None
        if key is not None and key in cached:
            found, problems = cached[key]
        else:
            found, problems = _load_file(file)
        if key is not None:
            fresh[key] = (found, problems)
        errors.extend(problems)
        for definition in found:
            if definition.id in seen:
                other = seen[definition.id]
                errors.append(
                    PolicyError(
                        f"duplicate policy id {definition.id} (also in {other.file}:{other.line})",
                        definition.location("id"),
                        E107,
                    )
                )
                continue
            seen[definition.id] = definition
            definitions.append(definition)
    if use_cache and fresh.keys() != cached.keys():
        cache.save({**cached, **fresh} if len(cached) < 5000 else fresh)
    return definitions, errors


def _load_file(file: Path) -> tuple[list[PolicyDefinition], list[PolicyError]]:
    """The definitions of one file, and the problems found in it."""
    try:
        data, positions = load_yaml_file(file)
    except PolicyError as exc:
        return [], [exc]
    documents: list[tuple[Any, tuple[Hashable, ...]]]
    if isinstance(data, list):
        documents = [(doc, (i,)) for i, doc in enumerate(data)]
    else:
        documents = [(data, ())]
    found: list[PolicyDefinition] = []
    problems: list[PolicyError] = []
    for doc, prefix in documents:
        try:
            found.append(_definition(doc, str(file), positions, prefix))
        except PolicyErrors as exc:
            problems.extend(exc.errors)
    return found, problems


_ACTION_NAME = re.compile(r"^[a-z][a-z0-9_]*$")


def _actions(
    value: Mapping[str, Any], file: str, positions: Positions, prefix: tuple[Hashable, ...]
) -> dict[str, tuple[tuple[str, Mapping[str, Any]], ...]]:
    """``actions:`` as ``{connector: ((name, params), ...)}``; the shape only (lint checks names).

    Per connector: a name, or a list of names and ``{name: {param: value}}`` mappings.
    """

    def problem(message: str, *path: Hashable) -> PolicyErrors:
        line, col = position_of(positions, (*prefix, "actions", *path))
        dotted = ".".join(str(p) for p in ("actions", *path))
        return PolicyErrors([PolicyError(message, Location(file, line, col, field=dotted), E101)])

    out: dict[str, tuple[tuple[str, Mapping[str, Any]], ...]] = {}
    for connector, entries in value.items():
        items = [entries] if isinstance(entries, str | dict) else entries
        if not isinstance(items, list) or not items:
            raise problem("a list of action names or {name: {parameters}}", connector)
        refs: list[tuple[str, Mapping[str, Any]]] = []
        for i, item in enumerate(items):
            name: Any
            params: Any
            if isinstance(item, str):
                name, params = item, {}
            elif isinstance(item, dict) and len(item) == 1:
                name, params = next(iter(item.items()))
                params = {} if params is None else params
            else:
                raise problem("an action is a name or a one-key {name: {parameters}}", connector, i)
            if not isinstance(name, str) or not _ACTION_NAME.match(name):
                raise problem(f"action name {name!r}: lowercase letters, digits, _", connector, i)
            if not isinstance(params, dict) or not all(isinstance(k, str) for k in params):
                raise problem(f"parameters of {name} must be a mapping", connector, i)
            if any(name == seen for seen, _ in refs):
                raise problem(f"action {name} listed twice", connector, i)
            refs.append((name, dict(params)))
        out[connector] = tuple(refs)
    return out


def _definition(
    doc: Any, file: str, positions: Positions, prefix: tuple[Hashable, ...]
) -> PolicyDefinition:
    problems = validate(doc, POLICY_SCHEMA, file=file, positions=positions, prefix=prefix)
    if problems:
        raise PolicyErrors(problems)
    remediation = doc["remediation"]
    if isinstance(remediation, str):
        remediation = {"default": remediation}
    else:
        for key in remediation:
            if not isinstance(key, str) or not re.match(CONNECTOR_KEY_PATTERN, key):
                line, col = position_of(positions, (*prefix, "remediation", key))
                raise PolicyErrors(
                    [
                        PolicyError(
                            f"remediation key {key!r} is not a connector name; use 'default' "
                            "or a connector type (lowercase letters, digits, _)",
                            Location(file, line, col, field=f"remediation.{key}"),
                            E101,
                        )
                    ]
                )
    actions = _actions(doc.get("actions") or {}, file, positions, prefix)
    line, _ = position_of(positions, prefix or ("id",))
    definition = PolicyDefinition(
        id=doc["id"],
        title=doc["title"].strip(),
        severity=doc["severity"],
        resource=doc["resource"],
        description=(doc.get("description") or "").strip(),
        rationale=(doc.get("rationale") or "").strip(),
        match=doc.get("match"),
        require=doc["require"],
        on_missing=doc.get("on_missing", "fail"),
        message=(doc.get("message") or doc["title"]).strip(),
        remediation={k: v.strip() for k, v in remediation.items()},
        params=dict(doc.get("params") or {}),
        frameworks={k: tuple(v) for k, v in (doc.get("frameworks") or {}).items()},
        references=tuple(doc.get("references") or ()),
        tags=tuple(doc.get("tags") or ()),
        enabled=doc.get("enabled", True),
        supersedes=tuple(doc.get("supersedes") or ()),
        file=file,
        line=line or 1,
        positions=positions,
        prefix=prefix,
        actions=actions,
    )
    # Compile once with the defaults so that every condition/template error
    # surfaces at load time (lint), not in the middle of an evaluation.
    from policyengine.policy.compiled import compile_policy

    try:
        compiled = compile_policy(
            definition, now=dt.datetime(2000, 1, 1, tzinfo=dt.UTC), params=definition.params
        )
    except PolicyError as exc:
        raise PolicyErrors([exc]) from None
    return replace(definition, used_params=compiled.used_params)
