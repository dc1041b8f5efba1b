"""Fields a source cannot provide: declared in the snapshot header, read by the engine.

A connector declares, in ``source.not_provided``, the fields its vendor's API never
gives for a kind (or a kind and type)::

    "not_provided": {
      "credential:oauth_token": {"activity": "Okta reports no use of refresh tokens"},
      "integration": {"owner": "Okta apps have no owner"}
    }

A policy condition over such a field, on a resource of that source where the field is
absent, is *not applicable*: it can never be known there, so it is neither a pass nor
missing data. A field that is absent without a declaration is missing data, as before
(``on_missing``). A snapshot without the key declares nothing.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any

from policyengine.model.kinds import FIELDS

#: the header key (inside ``source``)
HEADER_KEY = "not_provided"


def parse_declaration(data: Any) -> dict[str, dict[str, str]]:
    """Check a header's ``not_provided`` object; raise ValueError naming what is wrong."""
    if data is None:
        return {}
    if not isinstance(data, Mapping):
        raise ValueError("must be an object of `kind` or `kind:type` to {field: reason}")
    out: dict[str, dict[str, str]] = {}
    for key, fields in data.items():
        kind, _, _type = str(key).partition(":")
        if kind not in FIELDS or kind == "person":
            raise ValueError(f"{key!r}: unknown resource kind {kind!r}")
        if not isinstance(fields, Mapping) or not fields:
            raise ValueError(f"{key!r}: must be a non-empty object of field to reason")
        for name, reason in fields.items():
            if str(name).split(".")[0] not in FIELDS[kind] or name in _IDENTITY:
                raise ValueError(f"{key!r}: {name!r} is not a {kind} field a source may omit")
            if not isinstance(reason, str) or not reason.strip():
                raise ValueError(f"{key!r}: {name!r} needs a reason (a sentence)")
        out[str(key)] = {str(n): str(r) for n, r in fields.items()}
    return out


_IDENTITY = frozenset(("kind", "id", "source", "source_type", "name"))


class NotProvided:
    """Per source instance: which fields of which kind/type the source cannot provide."""

    __slots__ = ("_by_source", "_memo")

    def __init__(self, declarations: Mapping[str, Mapping[str, Mapping[str, str]]]) -> None:
        # instance -> (kind, type or "") -> {field: reason}
        self._by_source: dict[str, dict[tuple[str, str], dict[str, str]]] = {}
        for instance, declared in declarations.items():
            table = self._by_source.setdefault(instance, {})
            for key, fields in declared.items():
                kind, _, type_ = key.partition(":")
                table.setdefault((kind, type_), {}).update(fields)
        self._memo: dict[tuple[str, str, str, str], str | None] = {}

    def __bool__(self) -> bool:
        return bool(self._by_source)

    def names(self) -> frozenset[str]:
        """Every declared field name, of any source and kind (what code generation asks)."""
        return frozenset(n for t in self._by_source.values() for f in t.values() for n in f)

    def reason(self, resource: Mapping[str, Any], path: str) -> str | None:
        """Why ``path`` of ``resource`` cannot be known, or None when the source provides it."""
        source = resource.get("source")
        if not isinstance(source, str):
            return None
        table = self._by_source.get(source)
        if table is None:
            return None
        kind = resource.get("kind")
        type_ = resource.get("type")
        key = (source, str(kind), type_ if isinstance(type_, str) else "", path)
        if key in self._memo:
            return self._memo[key]
        found: str | None = None
        # the kind:type declaration first, then the kind's own
        for type_key in dict.fromkeys((key[2], "")):
            for name, why in table.get((key[1], type_key), {}).items():
                if covers(name, path):
                    found = why
                    break
            if found is not None:
                break
        self._memo[key] = found
        return found


def covers(name: str, path: str) -> bool:
    """A declared ``name`` covers the path itself and the paths below it (``owner.id``)."""
    return path == name or path.startswith(name + ".")


def not_provided_of(index: Any) -> NotProvided | None:
    """The declarations the engine attached to ``index`` (None: nothing declared)."""
    table = getattr(index, "not_provided", None)
    return table if table else None


def from_sources(sources: Iterable[Any]) -> NotProvided | None:
    """The declarations of snapshot headers (``SourceInfo``s); None when none declares any."""
    declared = {s.instance: s.not_provided for s in sources if s.not_provided}
    return NotProvided(declared) if declared else None
