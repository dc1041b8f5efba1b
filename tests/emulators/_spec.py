"""Check an emulator's JSON against the vendor's own machine-readable API description.

An emulator written from docs drifts from the real wire format without anyone noticing;
validating what it serves against the vendor's spec catches a misspelt field, a number
sent as a string, a timestamp in the wrong shape::

    github = OpenApiSpec.load(SPECS / "github" / "github-posture-subset.json")
    github.validate(body, "simple-user")                                 # a named schema
    github.validate_response(body, "/orgs/{org}/members", "get", 200)    # an operation's answer

    directory = DiscoverySpec.load(SPECS / "google" / "admin.directory_v1.json")
    directory.validate(body, "User", forbid_unknown=True)
    directory.validate_response(body, "users.list")

(Microsoft Graph's OData CSDL is handled by ``_csdl.CsdlSpec`` on the same base.)
All raise :class:`SpecMismatch` naming every problem with its JSON path. OpenAPI 3.0
``nullable`` is turned into JSON Schema's ``null`` type; Google discovery schemas
(``$ref`` by schema id, ``type: any``, ``int64`` as a decimal string) are turned into
JSON Schema. jsonschema is imported when a spec is loaded, not at module import.
"""

from __future__ import annotations

import copy
import datetime as dt
import json
from collections.abc import Mapping
from pathlib import Path
from typing import Any

__all__ = ["DiscoverySpec", "OpenApiSpec", "SpecMismatch"]  # CsdlSpec: _csdl.py


class SpecMismatch(AssertionError):
    """A body does not match the spec; the message lists each problem with its path."""


def _load_json(path: str | Path) -> Any:
    return json.loads(Path(path).read_text(encoding="utf-8"))


def _format_checker() -> Any:
    from jsonschema import FormatChecker

    checker = FormatChecker(formats=())

    def _date_time(value: object) -> bool:
        # RFC 3339: a date, a time and an offset (jsonschema checks it only with extras)
        if not isinstance(value, str):
            return True
        if "T" not in value.upper():
            raise ValueError("no time part")
        parsed = dt.datetime.fromisoformat(value.replace("z", "Z"))
        if parsed.tzinfo is None:
            raise ValueError("no UTC offset")
        return True

    checker.checks("date-time", raises=ValueError)(_date_time)
    return checker


def _problems(validator: Any, body: Any) -> list[str]:
    errors = sorted(validator.iter_errors(body), key=lambda e: list(e.absolute_path))
    return [f"{e.json_path}: {e.message}" for e in errors]


class _Spec:
    def __init__(self, name: str, root: dict[str, Any], pointer: str, *, draft: int = 4) -> None:
        import jsonschema

        self.name = name
        self._root = root
        self._pointer = pointer  # where named schemas live in root
        # OpenAPI 3.0 and discovery schemas are draft 4; the CSDL translation needs if/then
        self._validator_class = (
            jsonschema.Draft7Validator if draft == 7 else jsonschema.Draft4Validator
        )
        self._checker = _format_checker()

    def _named(self, schema: str) -> dict[str, Any]:
        names = self.schema_names()
        if schema not in names:
            raise KeyError(f"{self.name}: no schema {schema!r}")
        return {"$ref": f"{self._pointer}/{schema}"}

    def schema_names(self) -> list[str]:
        raise NotImplementedError

    def _check(self, body: Any, schema: Mapping[str, Any], what: str) -> None:
        root = {**self._root, **schema}
        validator = self._validator_class(root, format_checker=self._checker)
        problems = _problems(validator, body)
        if problems:
            listed = "; ".join(problems[:20])
            more = f" (and {len(problems) - 20} more)" if len(problems) > 20 else ""
            raise SpecMismatch(f"{self.name} {what}: {listed}{more}")

    def errors(self, body: Any, schema: str) -> list[str]:
        """The problems of ``body`` against named schema ``schema`` (empty when it matches)."""
        try:
            self.validate(body, schema)
        except SpecMismatch as exc:
            return str(exc).split(": ", 1)[1].split("; ")
        return []

    def validate(self, body: Any, schema: str) -> None:
        self._check(body, self._named(schema), f"schema {schema}")


# ------------------------------------------------------------------ OpenAPI 3.0
def _nullable_to_json_schema(node: Any) -> Any:
    """OpenAPI 3.0 ``nullable: true`` as JSON Schema, everywhere in the document."""
    if isinstance(node, list):
        return [_nullable_to_json_schema(v) for v in node]
    if not isinstance(node, dict):
        return node
    out = {k: _nullable_to_json_schema(v) for k, v in node.items()}
    if out.get("nullable") is not True:
        return out
    del out["nullable"]
    if "enum" in out and None not in out["enum"]:
        out["enum"] = [*out["enum"], None]
    if isinstance(out.get("type"), str) and "$ref" not in out:
        out["type"] = [out["type"], "null"]
        return out
    return {"anyOf": [out, {"type": "null"}]}


class OpenApiSpec(_Spec):
    """An OpenAPI 3.0 description (GitHub's ``ghec.json`` or a cut of it)."""

    def __init__(self, document: Mapping[str, Any], name: str = "OpenAPI spec") -> None:
        version = str(document.get("openapi", ""))
        if not version.startswith("3.0"):
            raise ValueError(f"{name}: OpenAPI 3.0 expected, got {version or 'no openapi key'}")
        self.document = document
        components = _nullable_to_json_schema(copy.deepcopy(dict(document.get("components", {}))))
        super().__init__(name, {"components": components}, "#/components/schemas")

    @classmethod
    def load(cls, path: str | Path) -> OpenApiSpec:
        return cls(_load_json(path), name=Path(path).name)

    def schema_names(self) -> list[str]:
        return sorted(self._root["components"].get("schemas", {}))

    def _resolve(self, node: Mapping[str, Any]) -> Mapping[str, Any]:
        while "$ref" in node:
            target: Any = self._root
            for part in str(node["$ref"]).removeprefix("#/").split("/"):
                target = target[part]
            node = target
        return node

    def response_schema(self, path: str, method: str = "get", status: int = 200) -> dict[str, Any]:
        """The JSON Schema of an operation's ``application/json`` response."""
        try:
            operation = self.document["paths"][path][method.lower()]
            response = operation["responses"][str(status)]
        except KeyError:
            raise KeyError(f"{self.name}: no {method.upper()} {path} response {status}") from None
        if "$ref" in response:
            response = self._resolve({"$ref": response["$ref"]})  # components/responses, converted
        content = response.get("content", {})
        media = next((m for m in content if m.split(";")[0].endswith("json")), None)
        if media is None:
            raise KeyError(f"{self.name}: {method.upper()} {path} {status} has no JSON body")
        schema: dict[str, Any] = _nullable_to_json_schema(copy.deepcopy(content[media]["schema"]))
        return schema

    def validate_response(
        self, body: Any, path: str, method: str = "get", status: int = 200
    ) -> None:
        schema = self.response_schema(path, method, status)
        self._check(body, schema, f"{method.upper()} {path} {status}")


# ------------------------------------------------------------------ Google discovery
_DISCOVERY_TYPES = {"string", "integer", "number", "boolean", "object", "array", "null"}
_DECIMAL_FORMATS = {"int64", "uint64"}  # discovery sends 64-bit integers as strings


def _discovery_to_json_schema(node: Mapping[str, Any], forbid_unknown: bool) -> dict[str, Any]:
    if "$ref" in node:
        return {"$ref": f"#/definitions/{node['$ref']}"}
    kind = node.get("type")
    out: dict[str, Any] = {}
    if kind in _DISCOVERY_TYPES:
        out["type"] = kind
    if "enum" in node:
        out["enum"] = list(node["enum"])
    fmt = node.get("format")
    if kind == "string" and fmt in _DECIMAL_FORMATS:
        out["pattern"] = r"^-?[0-9]+$"
    elif kind == "string" and fmt == "date-time":
        out["format"] = "date-time"
    if "items" in node:
        out["items"] = _discovery_to_json_schema(node["items"], forbid_unknown)
    if "properties" in node:
        out["properties"] = {
            k: _discovery_to_json_schema(v, forbid_unknown) for k, v in node["properties"].items()
        }
    if "additionalProperties" in node:
        out["additionalProperties"] = _discovery_to_json_schema(
            node["additionalProperties"], forbid_unknown
        )
    elif forbid_unknown and "properties" in node:
        out["additionalProperties"] = False
    return out


class DiscoverySpec(_Spec):
    """A Google API Discovery document (``"kind": "discovery#restDescription"``)."""

    def __init__(
        self,
        document: Mapping[str, Any],
        name: str = "discovery document",
        *,
        forbid_unknown: bool = False,
    ) -> None:
        if document.get("kind") != "discovery#restDescription":
            raise ValueError(f"{name}: not a discovery document (kind {document.get('kind')!r})")
        self.document = document
        self._forbid_unknown = forbid_unknown
        definitions = {
            sid: _discovery_to_json_schema(schema, forbid_unknown)
            for sid, schema in document.get("schemas", {}).items()
        }
        super().__init__(name, {"definitions": definitions}, "#/definitions")

    @classmethod
    def load(cls, path: str | Path, *, forbid_unknown: bool = False) -> DiscoverySpec:
        return cls(_load_json(path), name=Path(path).name, forbid_unknown=forbid_unknown)

    def schema_names(self) -> list[str]:
        return sorted(self._root["definitions"])

    def validate(self, body: Any, schema: str, *, forbid_unknown: bool | None = None) -> None:
        """``forbid_unknown`` (default: as loaded) refuses properties the schema lacks."""
        if forbid_unknown is not None and forbid_unknown != self._forbid_unknown:
            DiscoverySpec(self.document, self.name, forbid_unknown=forbid_unknown).validate(
                body, schema
            )
            return
        super().validate(body, schema)

    def method(self, dotted: str) -> Mapping[str, Any]:
        """A method by its dotted name (``users.list``, ``roleAssignments.get``)."""
        *resources, name = dotted.split(".")
        node: Mapping[str, Any] = self.document
        try:
            for resource in resources:
                node = node["resources"][resource]
            method: Mapping[str, Any] = node["methods"][name]
            return method
        except KeyError:
            raise KeyError(f"{self.name}: no method {dotted}") from None

    def validate_response(self, body: Any, method: str) -> None:
        ref = self.method(method).get("response", {}).get("$ref")
        if ref is None:
            raise KeyError(f"{self.name}: method {method} has no response body")
        self._check(body, self._named(ref), f"{method} response ({ref})")
