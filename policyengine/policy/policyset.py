"""A set of policy definitions with profile and organisation overrides applied."""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from policyengine.errors import ConfigError, Location
from policyengine.lintcodes import E001, E101, E105, E106
from policyengine.model.evidence import PolicyInfo
from policyengine.policy.compiled import BoundPolicies, compile_policy
from policyengine.policy.loader import PolicyDefinition, builtin_policy_dir
from policyengine.policy.schema import OVERRIDE_SCHEMA, validate
from policyengine.policy.yamlload import Positions, load_yaml_file, position_of


@dataclass(frozen=True, slots=True)
class Override:
    """Changes to one policy from a profile or policyengine.yaml, with where they came from."""

    params: Mapping[str, Any] = field(default_factory=dict)
    severity: str | None = None
    enabled: bool | None = None
    file: str = ""
    line: int | None = None


@dataclass(slots=True)
class PolicySet:
    definitions: list[PolicyDefinition]
    overrides: dict[str, list[Override]] = field(default_factory=dict)
    profile: str = "default"
    warnings: list[str] = field(default_factory=list)

    def effective(self, definition: PolicyDefinition) -> tuple[dict[str, Any], str, bool]:
        params = dict(definition.params)
        severity, enabled = definition.severity, definition.enabled
        for override in self.overrides.get(definition.id, []):
            for name, value in override.params.items():
                if name not in params:
                    known = ", ".join(sorted(params)) or "none"
                    raise ConfigError(
                        f"{definition.id} has no parameter {name!r} (parameters: {known})",
                        Location(override.file, override.line),
                        E105,
                    )
                if not _same_shape(params[name], value):
                    raise ConfigError(
                        f"{definition.id} parameter {name!r} must be {_shape(params[name])} like its "
                        f"default {params[name]!r}, got {value!r}",
                        Location(override.file, override.line),
                        E105,
                    )
                params[name] = value
            severity = override.severity or severity
            if override.enabled is not None:
                enabled = override.enabled
        return params, severity, enabled

    def bind(self, now: dt.datetime) -> BoundPolicies:
        """Compile every enabled policy for the clock ``now``."""
        compiled = []
        for definition in sorted(self.definitions, key=lambda d: d.id):
            params, severity, enabled = self.effective(definition)
            if enabled:
                compiled.append(
                    compile_policy(definition, now=now, params=params, severity=severity)
                )
        return BoundPolicies.build(compiled)

    def infos(self) -> list[PolicyInfo]:
        out = []
        for d in sorted(self.definitions, key=lambda d: d.id):
            _, severity, enabled = self.effective(d)
            if not enabled:
                continue
            out.append(
                PolicyInfo(
                    id=d.id,
                    title=d.title,
                    severity=severity,
                    resource=d.resource,
                    description=d.description,
                    rationale=d.rationale,
                    remediation=d.remediation.get("default") or next(iter(d.remediation.values())),
                    frameworks=d.frameworks,
                    references=d.references,
                    file=d.file,
                    line=d.line,
                )
            )
        return out

    def add_overrides(
        self,
        mapping: Mapping[str, Any],
        *,
        file: str,
        positions: Positions,
        prefix: tuple[Any, ...],
    ) -> None:
        """Add a ``policies:`` mapping (from a profile or policyengine.yaml)."""
        known = {d.id for d in self.definitions}
        for policy_id, body in (mapping or {}).items():
            where = (*prefix, policy_id)
            problems = validate(
                body,
                OVERRIDE_SCHEMA,
                file=file,
                positions=positions,
                prefix=where,
                error=ConfigError,
                what="policy override",
            )
            if problems:
                raise problems[0]
            line, _ = position_of(positions, where)
            if policy_id not in known:
                self.warnings.append(f"{file}:{line}: override for unknown policy {policy_id}")
                continue
            self.overrides.setdefault(policy_id, []).append(
                Override(
                    params=body.get("params") or {},
                    severity=body.get("severity"),
                    enabled=body.get("enabled"),
                    file=file,
                    line=line,
                )
            )


def profile_dir() -> Path:
    return builtin_policy_dir() / "profiles"


def available_profiles() -> list[str]:
    folder = profile_dir()
    return sorted(p.stem for p in folder.glob("*.yaml")) if folder.is_dir() else []


def load_profile(name: str, policy_set: PolicySet) -> None:
    """Apply the built-in profile ``name`` (or a path to a profile file)."""
    path = Path(name)
    if not path.suffix:
        path = profile_dir() / f"{name}.yaml"
    if not path.is_file():
        choices = ", ".join(available_profiles()) or "none"
        raise ConfigError(
            f"unknown profile {name!r} (available: {choices})", Location(str(path)), E001
        )
    data, positions = load_yaml_file(path, ConfigError)
    if not isinstance(data, Mapping):
        raise ConfigError("a profile must be a mapping", Location(str(path), 1, 1), E101)
    policy_set.profile = str(data.get("profile") or path.stem)
    policy_set.add_overrides(
        data.get("policies") or {}, file=str(path), positions=positions, prefix=("policies",)
    )


def check_overrides(
    policy_set: PolicySet, sample: Sequence[PolicyDefinition] | None = None
) -> None:
    """Raise on an override with an unknown parameter, a value of the wrong shape, or a
    value the policy cannot compile with (a bad duration or regex), at the override's line."""
    from policyengine.errors import PolicyError
    from policyengine.policy.compiled import compile_policy

    for definition in sample or policy_set.definitions:
        params, severity, _ = policy_set.effective(definition)
        overrides = policy_set.overrides.get(definition.id)
        if not overrides or params == dict(definition.params):
            continue
        try:
            compile_policy(
                definition,
                now=dt.datetime(2000, 1, 1, tzinfo=dt.UTC),
                params=params,
                severity=severity,
            )
        except PolicyError as exc:
            last = overrides[-1]
            raise ConfigError(
                f"{definition.id} does not compile with the overridden parameters: {exc.message}",
                Location(last.file, last.line),
                exc.code or E106,
            ) from None


def _shape(value: Any) -> str:
    if isinstance(value, bool):
        return "true or false"
    if isinstance(value, int | float):
        return "a number"
    if isinstance(value, list):
        return "a list"
    if isinstance(value, dict):
        return "a mapping"
    return "a string"


def _same_shape(default: Any, value: Any) -> bool:
    return default is None or _shape(default) == _shape(value)
