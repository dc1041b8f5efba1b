"""Microsoft Graph's OData CSDL (``$metadata``) as JSON Schema, to check an Entra emulator.

    graph = CsdlSpec.load(SPECS / "entra" / "msgraph-v1.0-entra-posture-subset.csdl.xml")
    graph.validate(user, "user")                       # one entity (or complex) type
    graph.validate_collection(body, "users")           # {"value": [...], "@odata.nextLink"}

How OData JSON maps: ``Edm.*`` to JSON types (``Guid``, ``Date``, ``Duration`` checked
by pattern, ``DateTimeOffset`` as an RFC 3339 date-time); ``Nullable`` (default true)
allows ``null``; ``Collection(T)`` is an array; an enum is one of its member names,
a flags enum a comma-separated list of them; a type's properties include its base
types'; an object naming a derived type in ``@odata.type`` is checked against that
type; ``@odata.*`` annotations are always allowed. Navigation properties appear only
when expanded, so they are optional like everything else.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from pathlib import Path
from typing import Any
from xml.etree import ElementTree as ET

from tests.emulators._spec import SpecMismatch, _Spec

__all__ = ["CsdlSpec", "SpecMismatch"]

_EDM = "{http://docs.oasis-open.org/odata/ns/edm}"
_GUID = r"^[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}$"
_PRIMITIVES: dict[str, dict[str, Any]] = {
    "Edm.String": {"type": "string"},
    "Edm.Boolean": {"type": "boolean"},
    "Edm.Guid": {"type": "string", "pattern": _GUID},
    "Edm.DateTimeOffset": {"type": "string", "format": "date-time"},
    "Edm.Date": {"type": "string", "pattern": r"^\d{4}-\d{2}-\d{2}$"},
    "Edm.TimeOfDay": {"type": "string", "pattern": r"^\d{2}:\d{2}(:\d{2}(\.\d+)?)?$"},
    "Edm.Duration": {"type": "string", "pattern": r"^-?P"},
    "Edm.Binary": {"type": "string", "pattern": r"^[A-Za-z0-9+/_=-]*$"},
    "Edm.Stream": {"type": "string"},
    "Edm.Byte": {"type": "integer"},
    "Edm.SByte": {"type": "integer"},
    "Edm.Int16": {"type": "integer"},
    "Edm.Int32": {"type": "integer"},
    "Edm.Int64": {"type": "integer"},
    "Edm.Single": {"type": ["number", "string"]},  # "INF", "NaN" are allowed on the wire
    "Edm.Double": {"type": ["number", "string"]},
    "Edm.Decimal": {"type": ["number", "string"]},
}
_ANNOTATIONS: dict[str, dict[str, Any]] = {
    "^@|@odata\\.": {}
}  # "@odata.type", "prop@odata.nextLink"


class _Types:
    """The schema's structured and enum types, names without namespace or alias."""

    def __init__(self, root: ET.Element) -> None:
        self.prefixes: list[str] = []
        self.structured: dict[str, ET.Element] = {}
        self.enums: dict[str, ET.Element] = {}
        self.entity_sets: dict[str, str] = {}
        for schema in root.iter(f"{_EDM}Schema"):
            self.prefixes += [p + "." for p in (schema.get("Namespace"), schema.get("Alias")) if p]
            for tag in ("EntityType", "ComplexType"):
                for node in schema.findall(f"{_EDM}{tag}"):
                    self.structured[node.get("Name", "")] = node
            for node in schema.findall(f"{_EDM}EnumType"):
                self.enums[node.get("Name", "")] = node
            for container in schema.findall(f"{_EDM}EntityContainer"):
                for node in container:
                    kind = node.get("EntityType") or node.get("Type")
                    if kind:
                        self.entity_sets[node.get("Name", "")] = self.local(kind)

    def local(self, qualified: str) -> str:
        for prefix in self.prefixes:
            if qualified.startswith(prefix):
                return qualified[len(prefix) :]
        return qualified

    def base(self, name: str) -> str | None:
        base = self.structured[name].get("BaseType")
        return self.local(base) if base else None

    def lineage(self, name: str) -> list[ET.Element]:
        """The type and its base types, most basic first."""
        chain: list[ET.Element] = []
        current: str | None = name
        while current is not None:
            chain.insert(0, self.structured[current])
            current = self.base(current)
        return chain

    def derived(self, name: str) -> list[str]:
        """Every type that derives from ``name``, at any depth."""
        return [t for t in self.structured if t != name and name in self._ancestors(t)]

    def _ancestors(self, name: str) -> set[str]:
        found: set[str] = set()
        current = self.base(name)
        while current is not None:
            found.add(current)
            current = self.base(current)
        return found


def _type_schema(types: _Types, qualified: str, nullable: bool) -> dict[str, Any]:
    match = re.fullmatch(r"Collection\((.+)\)", qualified)
    if match:
        return {"type": "array", "items": _type_schema(types, match.group(1), nullable)}
    if qualified in _PRIMITIVES:
        schema = dict(_PRIMITIVES[qualified])
        if nullable:  # a type list keeps the error message plain ("is not of type ...")
            kinds = schema["type"] if isinstance(schema["type"], list) else [schema["type"]]
            schema["type"] = [*kinds, "null"]
        return schema
    schema = {"$ref": f"#/definitions/{types.local(qualified)}"}
    return {"anyOf": [schema, {"type": "null"}]} if nullable else schema


def _enum_schema(node: ET.Element) -> dict[str, Any]:
    members = [m.get("Name", "") for m in node.findall(f"{_EDM}Member")]
    if node.get("IsFlags") == "true":
        one = "|".join(re.escape(m) for m in members)
        return {"type": "string", "pattern": f"^({one})(,({one}))*$"}
    return {"type": "string", "enum": members}


def _flat_schema(types: _Types, name: str, forbid_unknown: bool) -> dict[str, Any]:
    properties: dict[str, Any] = {}
    for node in types.lineage(name):
        for prop in node.findall(f"{_EDM}Property"):
            nullable = prop.get("Nullable", "true") != "false"
            properties[prop.get("Name", "")] = _type_schema(types, prop.get("Type", ""), nullable)
        for nav in node.findall(f"{_EDM}NavigationProperty"):
            properties[nav.get("Name", "")] = _type_schema(types, nav.get("Type", ""), True)
    schema: dict[str, Any] = {
        "type": "object",
        "properties": properties,
        "patternProperties": _ANNOTATIONS,
    }
    open_type = any(n.get("OpenType") == "true" for n in types.lineage(name))
    if forbid_unknown and not open_type:
        schema["additionalProperties"] = False
    return schema


def _dispatching_schema(types: _Types, name: str) -> dict[str, Any]:
    """``name``, or the derived type an object names in ``@odata.type``."""
    schema: dict[str, Any] = {"$ref": f"#/definitions/{name}.own"}
    for derived in reversed(types.derived(name)):
        names = [f"#{prefix}{derived}" for prefix in types.prefixes] or [f"#{derived}"]
        schema = {
            "if": {
                "type": "object",
                "required": ["@odata.type"],
                "properties": {"@odata.type": {"enum": names}},
            },
            "then": {"$ref": f"#/definitions/{derived}.own"},
            "else": schema,
        }
    return schema


class CsdlSpec(_Spec):
    """An OData CSDL XML document (Microsoft Graph ``$metadata`` or a cut of it)."""

    def __init__(
        self, document: ET.Element, name: str = "CSDL", *, forbid_unknown: bool = False
    ) -> None:
        types = _Types(document)
        if not types.structured:
            raise ValueError(f"{name}: no EntityType or ComplexType (not a CSDL document?)")
        self.types = types
        definitions: dict[str, Any] = {}
        for enum_name, node in types.enums.items():
            definitions[enum_name] = _enum_schema(node)
        for type_name in types.structured:
            definitions[f"{type_name}.own"] = _flat_schema(types, type_name, forbid_unknown)
            definitions[type_name] = _dispatching_schema(types, type_name)
        super().__init__(name, {"definitions": definitions}, "#/definitions", draft=7)

    @classmethod
    def load(cls, path: str | Path, *, forbid_unknown: bool = False) -> CsdlSpec:
        root = ET.parse(path).getroot()  # the vendor's own file, not hostile input
        return cls(root, name=Path(path).name, forbid_unknown=forbid_unknown)

    def schema_names(self) -> list[str]:
        return sorted(self.types.structured) + sorted(self.types.enums)

    def validate_collection(self, body: Mapping[str, Any], entity_set_or_type: str) -> None:
        """A collection response: ``value`` holds the type of an entity set (``users``) or a
        named type (``authenticationMethod``); ``@odata.nextLink`` and the like are allowed."""
        item = self.types.entity_sets.get(entity_set_or_type, entity_set_or_type)
        schema = {
            "type": "object",
            "required": ["value"],
            "properties": {"value": {"type": "array", "items": self._named(item)}},
            "patternProperties": _ANNOTATIONS,
            "additionalProperties": False,
        }
        self._check(body, schema, f"collection of {item}")
