"""The cerberus schema of a policy document and error reporting with positions."""

from __future__ import annotations

import difflib
from collections.abc import Hashable, Iterator, Mapping
from typing import TYPE_CHECKING, Any, TypeVar, overload

if TYPE_CHECKING:
    from cerberus import Validator

from policyengine.errors import Location, PolicyEngineError, PolicyError
from policyengine.lintcodes import E100, E101
from policyengine.model.kinds import KINDS
from policyengine.model.severity import SEVERITIES
from policyengine.policy.yamlload import Positions, position_of

ID_PATTERN = r"^[A-Z][A-Z0-9]*(-[A-Z0-9]+)+$"
#: A remediation key: ``default`` or a connector name as registered under the
#: ``policyengine.connectors`` entry points (a third party's too). Whether such a
#: connector is installed is lint's question (W209), not the loader's: a policy
#: library stays loadable where a connector is not installed.
CONNECTOR_KEY_PATTERN = r"^[a-z][a-z0-9_]*$"

_STR = {"type": "string"}
_STRLIST = {"type": "list", "schema": {"type": "string"}}

POLICY_SCHEMA: dict[str, Any] = {
    "id": {"type": "string", "required": True, "regex": ID_PATTERN},
    "title": {"type": "string", "required": True, "empty": False},
    "severity": {"type": "string", "required": True, "allowed": list(SEVERITIES)},
    "resource": {"type": "string", "required": True, "allowed": list(KINDS)},
    "description": _STR,
    "rationale": _STR,
    "match": {"type": "dict"},
    "require": {"type": "dict", "required": True, "empty": False},
    "on_missing": {"type": "string", "allowed": ["fail", "pass"]},
    "message": _STR,
    # a string, or a mapping by connector type (keys checked by the loader)
    "remediation": {"required": True, "type": ["string", "dict"], "empty": False},
    "params": {"type": "dict", "keysrules": {"type": "string", "regex": r"^[a-z][a-z0-9_]*$"}},
    # remediation actions by connector type: `salesforce: [revoke_oauth_tokens, {freeze_user: {}}]`
    # (the shape is checked by the loader; names and parameters by lint, against the plug-ins)
    "actions": {"type": "dict", "keysrules": {"type": "string", "regex": CONNECTOR_KEY_PATTERN}},
    "frameworks": {"type": "dict", "valuesrules": _STRLIST},
    "references": _STRLIST,
    "tags": _STRLIST,
    "enabled": {"type": "boolean"},
    # ids of narrower policies whose finding on the same resource this one makes redundant
    "supersedes": {"type": "list", "schema": {"type": "string", "regex": ID_PATTERN}},
}

OVERRIDE_SCHEMA: dict[str, Any] = {
    "params": {"type": "dict"},
    "severity": {"type": "string", "allowed": list(SEVERITIES)},
    "enabled": {"type": "boolean"},
}


_Error = TypeVar("_Error", bound=PolicyEngineError)


# Two signatures so that the errors come back as the class asked for (ConfigError for
# config and overrides), and as PolicyError when none is named.
@overload
def validate(
    document: Any,
    schema: Mapping[str, Any],
    *,
    file: str,
    positions: Positions,
    prefix: tuple[Hashable, ...] = (),
    what: str = "policy",
) -> list[PolicyError]: ...


@overload
def validate(
    document: Any,
    schema: Mapping[str, Any],
    *,
    file: str,
    positions: Positions,
    prefix: tuple[Hashable, ...] = (),
    error: type[_Error],
    what: str = "policy",
) -> list[_Error]: ...


def validate(
    document: Any,
    schema: Mapping[str, Any],
    *,
    file: str,
    positions: Positions,
    prefix: tuple[Hashable, ...] = (),
    error: type[PolicyEngineError] = PolicyError,
    what: str = "policy",
) -> list[Any]:  # the overloads above say which error class
    """Validate ``document``; return errors (empty when valid) with file:line:col."""
    if not isinstance(document, Mapping):
        line, col = position_of(positions, prefix)
        return [error(f"a {what} must be a mapping", Location(file, line, col), E101)]
    validator = validator_for(schema)
    # normalize=False: we use no defaults or coercion, and normalising costs most of the time
    if validator.validate(dict(document), normalize=False):
        return []
    out: list[PolicyEngineError] = []
    for path, message in flatten_errors(validator.errors, ()):
        field = path[-1] if path else None
        code = E101
        if message == "unknown field" and isinstance(field, str):
            close = difflib.get_close_matches(field, list(schema), n=1, cutoff=0.6)
            hint = f" (did you mean '{close[0]}'?)" if close else ""
            message = f"unknown field{hint}; allowed: {', '.join(schema)}"
            code = E100
        elif message == "required field":
            code = E100
        elif message.startswith("unallowed value") and isinstance(field, str):
            allowed = (schema.get(field) or {}).get("allowed") or []
            close = difflib.get_close_matches(str(message[16:]), allowed, n=1, cutoff=0.6)
            hint = f" (did you mean '{close[0]}'?)" if close else ""
            message = f"{message}{hint}; allowed: {', '.join(allowed)}"
        line, col = position_of(positions, (*prefix, *path))
        dotted = ".".join(str(p) for p in path)
        out.append(error(message, Location(file, line, col, field=dotted or None), code))
    return out


_VALIDATORS: dict[int, Validator] = {}  # imported lazily: lint of cached files skips it


def validator_for(schema: Mapping[str, Any]) -> Validator:
    """Building a cerberus Validator is costly; schemas are module constants, so reuse."""
    found = _VALIDATORS.get(id(schema))
    if found is None:
        from cerberus import Validator

        found = _VALIDATORS[id(schema)] = Validator(dict(schema))
    return found


def flatten_errors(
    errors: Any, path: tuple[Hashable, ...]
) -> Iterator[tuple[tuple[Hashable, ...], str]]:
    if isinstance(errors, Mapping):
        for key, value in errors.items():
            yield from flatten_errors(value, (*path, key))
    elif isinstance(errors, list):
        for item in errors:
            if isinstance(item, Mapping | list):
                yield from flatten_errors(item, path)
            else:
                yield path, str(item)
    else:
        yield path, str(errors)
