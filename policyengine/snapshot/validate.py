"""Check one resource record against the normalised model.

Cheap enough for a million records: one dictionary lookup and one type test
per field. Timestamps in another ISO 8601 form are normalised in place to
``YYYY-MM-DDTHH:MM:SSZ`` (the form that compares correctly as a string).
"""

from __future__ import annotations

import re
from typing import Any

from policyengine.model.kinds import FIELD_TYPES, OBJECT_FIELD_TYPES, TIMESTAMP_FIELDS_BY_KIND
from policyengine.model.timestamps import normalise_timestamp

# YYYY-MM-DDTHH:MM:SSZ with plausible fields; anything else goes through the full parser
_CANONICAL_TIMESTAMP = re.compile(
    r"\d{4}-(?:0[1-9]|1[0-2])-(?:0[1-9]|[12]\d|3[01])T(?:[01]\d|2[0-3]):[0-5]\d:[0-5]\dZ"
).fullmatch

#: how deeply a record's values may nest lists/objects (real directory data: under 10)
MAX_DEPTH = 64
_CONTAINERS = frozenset((dict, list))

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
_TIMESTAMP_KEYS = {kind: frozenset(names) for kind, names in TIMESTAMP_FIELDS_BY_KIND.items()}


def check_record(record: dict[str, Any], *, may_nest: bool = True) -> str | None:
    """Return ``None`` when valid, else ``"field: problem"``. May normalise timestamps.

    This runs once per record of a million-record snapshot, so the common case
    (every value of the expected type) costs one dictionary lookup and one
    ``type() is`` test per field.
    """
    raw_kind = record.get("kind")
    kind = raw_kind if type(raw_kind) is str else ""
    exact = _EXACT_BY_KIND.get(kind)
    if exact is None:
        return f"kind: {raw_kind!r} is not a resource kind ({', '.join(FIELD_TYPES)})"
    rid = record.get("id")
    if type(rid) is not str or not rid:
        return f"id: must be a non-empty string, got {rid!r}"
    if kind == "person":
        return "kind: person resources are built by the engine from accounts; a snapshot must not contain them"
    # first: the checks below may repr() a value. ``may_nest=False``: the caller knows
    # no value can be too deep (a JSONL line with at most MAX_DEPTH brackets)
    deep = _nesting_problem(record) if may_nest else None
    if deep is not None:
        return deep
    stamps = _TIMESTAMP_KEYS[kind]
    loose = _LOOSE_BY_KIND[kind]
    for name, value in record.items():
        want = exact.get(name)
        if want is not None:
            if value is None:
                continue
            if type(value) is not want:
                return f"{name}: must be {FIELD_TYPES[kind][name]}, got {type(value).__name__} {_short(value)}"
            if want is dict and name in OBJECT_FIELD_TYPES and isinstance(value, dict):
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


def may_nest_too_deep(line: bytes) -> bool:
    """Whether a JSON text could nest deeper than :data:`MAX_DEPTH` (C-speed pre-check)."""
    return line.count(b"[") + line.count(b"{") > MAX_DEPTH


def _nesting_problem(record: dict[str, Any]) -> str | None:
    """``"field: ..."`` when a value nests lists/objects deeper than :data:`MAX_DEPTH`.

    Error messages, evidence, reports and the JSON encoder recurse into values; a
    1,000-level ``raw`` would end in RecursionError there. Walked with a stack.
    """
    for name, value in record.items():
        if type(value) is not dict and type(value) is not list:
            continue
        stack: list[tuple[Any, int]] = [(value, 1)]
        while stack:
            item, depth = stack.pop()
            if depth > MAX_DEPTH:
                return f"{name}: nests lists/objects deeper than {MAX_DEPTH} levels"
            children = item.values() if type(item) is dict else item
            # the common case, a list of strings or a flat object, is one C-level scan
            if _CONTAINERS.isdisjoint(map(type, children)):
                continue
            stack.extend((c, depth + 1) for c in children if type(c) in _CONTAINERS)
    return None


def _nested_ok(want: str, value: Any) -> bool:
    if want == "list[str]":
        return type(value) is list and all(type(v) is str for v in value)
    if want == "number":
        return type(value) is not bool and isinstance(value, int | float)
    return type(value) is _EXACT[want]


#: a list of strings: no type is accepted as such, the items are checked
_STR_LIST: frozenset[type] = frozenset()
_STR_ONLY = frozenset((str,))
_ACCEPTED: dict[str, frozenset[type]] = {
    "list[str]": _STR_LIST,
    "number": frozenset((int, float)),  # not bool: type() is exact
    **{name: frozenset((t,)) for name, t in _EXACT.items()},
}
#: object field -> known key -> the exact value types it accepts
_OBJECT_ACCEPTS = {
    name: {key: _ACCEPTED[want] for key, want in types.items()}
    for name, types in OBJECT_FIELD_TYPES.items()
}


def _check_object(name: str, value: dict[str, Any]) -> str | None:
    """The known keys of ``mfa``, ``session``, ...: ``mfa.enrolled: "false"`` is not a bool."""
    accepts = _OBJECT_ACCEPTS[name]
    for key, sub in value.items():
        accepted = accepts.get(key)
        if accepted is None or sub is None or type(sub) in accepted:
            continue
        if accepted is _STR_LIST and type(sub) is list and _STR_ONLY.issuperset(map(type, sub)):
            continue
        want = OBJECT_FIELD_TYPES[name][key]
        return f"{name}.{key}: must be {want}, got {type(sub).__name__} {_short(sub)}"
    return None


def _short(value: Any) -> str:
    """The offending value for an error message: short, and never a secret."""
    from policyengine.redact import redact_text

    text = redact_text(repr(value))
    return text if len(text) <= 60 else text[:57] + "..."


def unknown_field(record: dict[str, Any]) -> str | None:
    """The first field of ``record`` its kind's model table does not have (``None``: all known)."""
    fields = FIELD_TYPES.get(record.get("kind"))  # type: ignore[arg-type]
    if fields is None:
        return None  # check_record names the bad kind
    for name in record:
        if name not in fields:
            return name
    return None
