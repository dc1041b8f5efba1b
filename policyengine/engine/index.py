"""Resources by identity, so that references (``owner``, ``groups``) resolve."""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping
from typing import Any


class ResourceIndex:
    """``(kind, source, id) -> resource``.

    A reference is the target's id in the same source, or for a cross-source
    reference (``person``) a ``(source, id)`` tuple or an object
    ``{"source": ..., "id": ...}``.
    """

    __slots__ = ("_by_key", "not_provided")

    def __init__(self, resources: Iterable[Mapping[str, Any]] = ()) -> None:
        self._by_key: dict[tuple[str, str, str], Mapping[str, Any]] = {}
        #: fields the sources declare they cannot provide (policyengine.model.provided)
        self.not_provided: Any = None
        for r in resources:
            self.add(r)

    def add(self, resource: Mapping[str, Any]) -> None:
        self._by_key[(resource["kind"], resource["source"], resource["id"])] = resource

    def get(self, kind: str, source: str, rid: str) -> Mapping[str, Any] | None:
        return self._by_key.get((kind, source, rid))

    def resolve(self, ref: Any, source: str, kind: str) -> Mapping[str, Any] | None:
        return resolve_reference(self.get, ref, source, kind)

    def keys(self, kind: str) -> list[tuple[str, str]]:
        """``(source, id)`` of every resource of ``kind``."""
        return [(source, rid) for (k, source, rid) in self._by_key if k == kind]

    def of_kind(self, kind: str) -> list[Mapping[str, Any]]:
        """Every resource of ``kind`` (one pass, no key list)."""
        return [r for (k, _, _), r in self._by_key.items() if k == kind]

    def __len__(self) -> int:
        return len(self._by_key)


def reference_target(ref: Any, source: str) -> tuple[str, str] | None:
    """``(source, id)`` of what ``ref`` names: an id in ``source``, a ``(source, id)``
    tuple (cross-source, from correlation) or ``{"source": ..., "id": ...}``."""
    if isinstance(ref, str):
        return source, ref
    if type(ref) is tuple and len(ref) == 2:
        return ref
    if isinstance(ref, Mapping):
        ref_id, ref_source = ref.get("id"), ref.get("source", source)
        if isinstance(ref_id, str) and isinstance(ref_source, str):
            return ref_source, ref_id
    return None


def resolve_reference(
    get: Callable[[str, str, str], Mapping[str, Any] | None], ref: Any, source: str, kind: str
) -> Mapping[str, Any] | None:
    """What ``ref`` names (:func:`reference_target`), looked up with ``get(kind, source, id)``."""
    named = reference_target(ref, source)
    if named is None:
        return None
    rsource, rid = named
    found = get(kind, rsource, rid)
    if found is None and kind == "group":
        # group and role are one idea in the model (DESIGN: "group / role"):
        # a Salesforce profile or an Okta admin role is a valid target too
        found = get("role", rsource, rid)
    return found
