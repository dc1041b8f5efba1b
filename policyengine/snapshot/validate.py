"""Check one resource record against the normalised model.

Cheap enough for a million records: one dictionary lookup and one type test
per field. Timestamps in another ISO 8601 form are normalised in place to
``YYYY-MM-DDTHH:MM:SSZ`` (the form that compares correctly as a string).
"""

from __future__ import annotations

from typing import Any

from policyengine.model.kinds import FIELD_TYPES
from policyengine.policy.duration import normalise_timestamp

_PY_TYPES: dict[str, type | tuple[type, ...]] = {
    "str": str,
    "bool": bool,
    "int": int,
    "number": (int, float),
    "list": list,
    "object": dict,
    "ref": (str, dict),
    "refs": list,
}
_CHECKS: dict[str, dict[str, Any]] = {
    kind: {
        name: _PY_TYPES.get(t) for name, t in fields.items() if t in _PY_TYPES or t == "timestamp"
    }
    for kind, fields in FIELD_TYPES.items()
}
_TIMESTAMP_KEYS = {
    kind: frozenset(n for n, t in fields.items() if t == "timestamp")
    for kind, fields in FIELD_TYPES.items()
}


def check_record(record: dict[str, Any]) -> str | None:
    """Return ``None`` when valid, else ``"field: problem"``. May normalise timestamps."""
    kind = record.get("kind")
    checks = _CHECKS.get(kind)  # type: ignore[arg-type]
    if checks is None:
        return f"kind: {kind!r} is not a resource kind ({', '.join(FIELD_TYPES)})"
    rid = record.get("id")
    if type(rid) is not str or not rid:
        return f"id: must be a non-empty string, got {rid!r}"
    stamps = _TIMESTAMP_KEYS[kind]
    for name, value in record.items():
        if value is None:
            continue
        if name in stamps:
            if type(value) is not str:
                return f"{name}: must be an ISO 8601 timestamp string, got {value!r}"
            if len(value) != 20 or value[19] != "Z" or value[10] != "T":
                try:
                    record[name] = normalise_timestamp(value)
                except ValueError:
                    return f"{name}: not an ISO 8601 timestamp: {value!r}"
            continue
        expected = checks.get(name)
        if expected is None:
            continue  # unknown fields are allowed (source extras); policies check paths
        if not isinstance(value, expected) or (expected is int and type(value) is bool):
            want = FIELD_TYPES[kind][name]
            return f"{name}: must be {want}, got {type(value).__name__} {_short(value)}"
        if expected == (int, float) and type(value) is bool:
            return f"{name}: must be a number, got {value!r}"
    return None


def _short(value: Any) -> str:
    text = repr(value)
    return text if len(text) <= 60 else text[:57] + "..."
