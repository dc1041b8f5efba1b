"""What evaluation must keep in memory: the fields that references reach.

A policy that follows a reference (``credential.owner.enabled``) or looks at a
person (``person.accounts[*].enabled``) needs other resources than the one it
evaluates. Instead of holding every resource, the engine keeps a *projection*
of each resource: its identity plus the fields some reference reaches. This
module walks the compiled policies once and says which fields those are.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field

from policyengine.policy.compiled import BoundPolicies
from policyengine.policy.conditions import All, Any_, Count, Leaf, Node, Not
from policyengine.policy.paths import Path

#: always kept: identity, display name, and what person correlation reads
IDENTITY_FIELDS = ("kind", "id", "source", "source_type", "name")
PERSON_FIELDS = ("email", "employee_id", "type")


@dataclass(slots=True)
class Needs:
    #: kind -> top-level fields that a reference reaches
    fields: dict[str, set[str]] = field(default_factory=dict)
    persons: bool = False

    @property
    def index(self) -> bool:
        """True when any policy reads another resource than the one evaluated."""
        return bool(self.fields) or self.persons

    def projection_fields(self, kind: str) -> tuple[str, ...] | None:
        """Fields to keep for ``kind``; None when no resource of it is referenced."""
        wanted = set(self.fields.get(kind, ()))
        if kind == "role":  # a group reference may name a role (ResourceIndex.resolve)
            wanted.update(self.fields.get("group", ()))
        if kind == "account" and self.persons:
            wanted.update(PERSON_FIELDS)
        if not wanted and not (kind == "account" and self.persons):
            return None
        return tuple(sorted(wanted | set(IDENTITY_FIELDS)))

    def correlation_only(self, kind: str) -> frozenset[str]:
        """Projected fields of ``kind`` that only person correlation reads."""
        if kind != "account" or not self.persons:
            return frozenset()
        return frozenset(PERSON_FIELDS) - self.fields.get(kind, set()) - set(IDENTITY_FIELDS)


def analyse(bound: BoundPolicies) -> Needs:
    needs = Needs()
    for policy in bound.policies:
        kind = policy.definition.resource
        if kind == "person":
            needs.persons = True
        for node in (policy.match, policy.require):
            if node is not None:
                _walk(node, kind, needs)
        for template in (policy.message, *policy.remediation.values()):
            for part in template.parts:
                if isinstance(part, tuple) and part[0] == "path":
                    _path(part[2], needs, deref_last=False)
    if needs.persons:
        needs.fields.setdefault("person", set()).update(("accounts", "emails", "employee_id"))
    return needs


def _walk(node: Node, kind: str, needs: Needs) -> None:
    if isinstance(node, All | Any_):
        for part in node.parts:
            _walk(part, kind, needs)
    elif isinstance(node, Not):
        _walk(node.part, kind, needs)
    elif isinstance(node, Leaf):
        _path(node.path, needs, deref_last=False)
    elif isinstance(node, Count):
        target = _path(node.path, needs, deref_last=node.where is not None)
        if node.where is not None and target is not None:
            needs.fields.setdefault(target, set()).update(_top_fields(node.where))
            _walk(node.where, target, needs)


def _path(path: Path, needs: Needs, *, deref_last: bool) -> str | None:
    """Record the fields reached through references; return the final target kind."""
    segments = path.segments
    last = len(segments) - 1
    target: str | None = None
    for i, seg in enumerate(segments):
        if seg.ref_kind is None:
            continue
        if seg.ref_kind == "person" or (path.kind == "person" and seg.name == "accounts"):
            needs.persons = True
        if i < last:
            needs.fields.setdefault(seg.ref_kind, set()).add(segments[i + 1].name)
            target = seg.ref_kind
        elif deref_last:
            target = seg.ref_kind
    return target


def _top_fields(node: Node) -> Iterable[str]:
    if isinstance(node, All | Any_):
        for part in node.parts:
            yield from _top_fields(part)
    elif isinstance(node, Not):
        yield from _top_fields(node.part)
    elif isinstance(node, Leaf | Count):
        yield node.path.segments[0].name
