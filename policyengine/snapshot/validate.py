"""Check one resource record against the normalised model.

Cheap enough for a million records: one dictionary lookup and one type test
per field. Timestamps in another ISO 8601 form are normalised in place to
``YYYY-MM-DDTHH:MM:SSZ`` (the form that compares correctly as a string).
"""

from __future__ import annotations

import re
from typing import Any

from policyengine.model.kinds import FIELD_TYPES, OBJECT_FIELD_TYPES
from policyengine.policy.duration import normalise_timestamp

# YYYY-MM-DDTHH:MM:SSZ with plausible fields; anything else goes through the full parser
_CANONICAL_TIMESTAMP = re.compile(
    r"\d{4}-(?:0[1-9]|1[0-2])-(?:0[1-9]|[12]\d|3[01])T(?:[01]\d|2[0-3]):[0-5]\d:[0-5]\dZ"
).fullmatch

_EXACT = {"str": str, "bool": bool, "int": int, "list": list, "object": dict, "refs": list}
_LOOSE: dict[str, tuple[type, ...]] = {"number": (int, float), "ref": (str, dict)}

# Per kind: fields whose value has one exact JSON type (checked with one `type() is`),
# fields that admit several types, and timestamp fields.
_EXACT_BY_KIND = {
    kind: {n: _EXACT[t] for n, t in fields.items() if t in _EXACT}
    for kind, fields in FIELD_TYPES.items()
}
_LOOSE_BY_KIND = {
    kind: {n: _LOOSE[t] for n, t in fields.items() if t in _LOOSE}
    for kind, fields in FIELD_TYPES.items()
}
_TIMESTAMP_KEYS = {
    kind: frozenset(n for n, t in fields.items() if t == "timestamp")
    for kind, fields in FIELD_TYPES.items()
}


def check_record(record: dict[str, Any]) -> str | None:
    """Return ``None`` when valid, else ``"field: problem"``. May normalise timestamps.

    This runs once per record of a million-record snapshot, so the common case
    (every value of the expected type) costs one dictionary lookup and one
    ``type() is`` test per field.
    """
    kind = record.get("kind")
    exact = _EXACT_BY_KIND.get(kind)  # type: ignore[arg-type]
    if exact is None:
        return f"kind: {kind!r} is not a resource kind ({', '.join(FIELD_TYPES)})"
    rid = record.get("id")
    if type(rid) is not str or not rid:
        return f"id: must be a non-empty string, got {rid!r}"
    if kind == "person":
        return "kind: person resources are built by the engine from accounts; a snapshot must not contain them"
    stamps = _TIMESTAMP_KEYS[kind]
    loose = _LOOSE_BY_KIND[kind]
    for name, value in record.items():
        want = exact.get(name)
        if want is not None:
            if value is None:
                continue
            if type(value) is not want:
                return f"{name}: must be {FIELD_TYPES[kind][name]}, got {type(value).__name__} {_short(value)}"
            if want is dict and name in OBJECT_FIELD_TYPES:
                problem = _check_object(name, value)
                if problem is not None:
                    return problem
            continue
        if value is None:
            continue
        if name in stamps:
            if type(value) is not str:
                return f"{name}: must be an ISO 8601 timestamp string, got {value!r}"
            if not _CANONICAL_TIMESTAMP(value):
                try:
                    record[name] = normalise_timestamp(value)
                except ValueError:
                    return f"{name}: not an ISO 8601 timestamp: {value!r}"
            continue
        allowed = loose.get(name)
        if allowed is not None and (type(value) is bool or not isinstance(value, allowed)):
            return f"{name}: must be {FIELD_TYPES[kind][name]}, got {type(value).__name__} {_short(value)}"
    return None


def _nested_ok(want: str, value: Any) -> bool:
    if want == "list[str]":
        return type(value) is list and all(type(v) is str for v in value)
    if want == "number":
        return type(value) is not bool and isinstance(value, int | float)
    return type(value) is _EXACT[want]


def _check_object(name: str, value: dict[str, Any]) -> str | None:
    """The known keys of ``mfa``, ``session``, ...: ``mfa.enrolled: "false"`` is not a bool."""
    types = OBJECT_FIELD_TYPES[name]
    for key, sub in value.items():
        want = types.get(key)
        if want is None or sub is None or _nested_ok(want, sub):
            continue
        return f"{name}.{key}: must be {want}, got {type(sub).__name__} {_short(sub)}"
    return None


def _short(value: Any) -> str:
    """The offending value for an error message: short, and never a secret."""
    from policyengine.redact import redact_text

    text = redact_text(repr(value))
    return text if len(text) <= 60 else text[:57] + "..."
