"""Field paths: ``mfa.methods``, ``groups[*].name``, ``owner.enabled``.

A path is parsed once into segments and compiled into a getter
``get(resource, index) -> value | None``. When a path continues past a
reference field (see :data:`policyengine.model.REFERENCES`) the getter follows
the reference through ``index`` (``credential.owner.enabled``). ``[*]``
maps the rest of the path over a list and yields a list. ``None`` means
missing: absent, null, or a dangling reference.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any, Protocol

from policyengine.model.kinds import REFERENCES

_SEGMENT = re.compile(r"^([A-Za-z0-9_:@$-]+)(\[\*\])?$")


class ResourceIndex(Protocol):
    def resolve(self, ref: Any, source: str, kind: str) -> Mapping[str, Any] | None: ...


Getter = Callable[[Mapping[str, Any], Any], Any]


@dataclass(frozen=True, slots=True)
class Segment:
    name: str
    star: bool  # [*]: the value is a list; map the rest of the path over it
    ref_kind: str | None  # the field refers to a resource of this kind


@dataclass(frozen=True, slots=True)
class Path:
    text: str
    kind: str
    segments: tuple[Segment, ...]

    @property
    def simple(self) -> bool:
        """No references followed and no ``[*]``: a plain nested lookup."""
        return (
            all(not s.star and s.ref_kind is None for s in self.segments[:-1])
            and not self.segments[-1].star
        )

    @property
    def final_ref_kind(self) -> str | None:
        return self.segments[-1].ref_kind


def parse_path(text: str, kind: str) -> Path:
    """Parse ``text`` for a resource of ``kind``; raise ValueError when malformed."""
    if not isinstance(text, str) or not text:
        raise ValueError(f"a field path must be a non-empty string, got {text!r}")
    segments: list[Segment] = []
    current: str | None = kind
    for part in text.split("."):
        match = _SEGMENT.match(part)
        if not match:
            raise ValueError(f"malformed field path {text!r} at {part!r}")
        name, star = match.group(1), bool(match.group(2))
        ref_kind = REFERENCES.get((current, name)) if current else None
        segments.append(Segment(name, star, ref_kind))
        # After a reference the next segment is a field of the target kind;
        # inside raw or nested objects we no longer know the kind.
        current = ref_kind if ref_kind else None
    return Path(text, kind, tuple(segments))


def compile_getter(path: Path, *, deref_last: bool = False) -> Getter:
    """Build ``get(resource, index)`` for ``path``.

    ``deref_last`` also resolves the last segment when it is a reference
    (``count: {where: ...}`` over ``person.accounts`` needs the records).
    """
    segments = path.segments
    last = len(segments) - 1

    def step(value: Any, i: int, resource: Mapping[str, Any], index: Any) -> Any:
        if i > last:
            return value
        if type(value) is not dict and not isinstance(value, Mapping):
            return None
        seg = segments[i]
        item = value.get(seg.name)
        if item is None:
            return None
        follow = seg.ref_kind is not None and (i < last or deref_last)
        source = value.get("source") or resource.get("source", "")
        if seg.star or (follow and isinstance(item, list)):
            if not isinstance(item, list):
                return None
            out: list[Any] = []
            for element in item:
                if follow:
                    element = index.resolve(element, source, seg.ref_kind)
                    if element is None:
                        if i == last:  # count over references: an unknown item
                            out.append(None)
                            continue
                        return None  # a dangling reference makes the whole list unknown
                got = step(element, i + 1, resource, index)
                if got is None:
                    return None  # one unknown element: the list of values is unknown (Kleene)
                if isinstance(got, list) and i + 1 <= last and _has_star_after(segments, i + 1):
                    out.extend(got)
                else:
                    out.append(got)
            return out
        if follow:
            item = index.resolve(item, source, seg.ref_kind)
            if item is None:
                return None
        return step(item, i + 1, resource, index)

    if (
        len(segments) == 2
        and segments[0].ref_kind is not None
        and not segments[0].star
        and not segments[1].star
        and not (deref_last and segments[1].ref_kind)
    ):
        # ``owner.enabled``, the common reference: one hop without the general walk
        ref_name, ref_kind, name = segments[0].name, segments[0].ref_kind, segments[1].name

        def one_hop(resource: Mapping[str, Any], index: Any) -> Any:
            if type(resource) is not dict and not isinstance(resource, Mapping):
                return None
            item = resource.get(ref_name)
            if item is None:
                return None
            if isinstance(item, list):  # a list of references maps the rest: the walk does
                return step(resource, 0, resource, index)
            target = index.resolve(item, resource.get("source") or "", ref_kind)
            if target is None or (type(target) is not dict and not isinstance(target, Mapping)):
                return None
            return target.get(name)

        return one_hop
    if path.simple and not (deref_last and segments[-1].ref_kind):
        names = tuple(s.name for s in segments)
        if len(names) == 1:
            only = names[0]
            return lambda r, _x: r.get(only)

        def nested(resource: Mapping[str, Any], _index: Any) -> Any:
            value: Any = resource
            for name in names:
                if type(value) is not dict and not isinstance(
                    value, Mapping
                ):  # fast path: JSON dicts
                    return None
                value = value.get(name)
                if value is None:
                    return None
            return value

        return nested
    return lambda r, x: step(r, 0, r, x)


def _has_star_after(segments: tuple[Segment, ...], start: int) -> bool:
    return any(s.star for s in segments[start:])
