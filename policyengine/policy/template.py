"""Message and remediation templates that can reach only resource fields.

``{name}``, ``{owner.name}``, ``{raw.Profile.Name}`` are field paths resolved
like policy paths; ``{$max_idle}`` is a parameter; ``{{`` and ``}}`` are
literal braces. There is no attribute access, indexing or format spec (unlike
``str.format``), so a template cannot reach into Python objects: a placeholder
is refused unless each segment is a plain name (no leading underscore, no
``!conversion``, ``:spec`` or ``[index]`` other than ``[*]``) and the path stops
at a scalar field (``{name.__class__}``, ``{name.upper}`` are errors).

>>> from policyengine.policy.paths import parse_path
>>> t = parse_template("Disable {name} in {source}.", lambda p: parse_path(p, "account"))
>>> t.render({"name": "alice", "source": "corp-ad"}, None, {})
'Disable alice in corp-ad.'
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from types import CodeType
from typing import Any

from policyengine.model.kinds import FIELD_TYPES, REFERENCES
from policyengine.policy.paths import Getter, Path, compile_getter

_PLACEHOLDER = re.compile(r"\{\{|\}\}|\{([^{}]*)\}")
# one plain name per segment: what a model field or a source attribute is called
_SEGMENT = r"[A-Za-z0-9][A-Za-z0-9_:@-]*(?:\[\*\])?"
_PLAIN_PATH = re.compile(rf"{_SEGMENT}(?:\.{_SEGMENT})*")
# field types a path cannot continue past (a str has no fields a template may read)
_SCALARS = frozenset({"str", "bool", "int", "number", "timestamp"})


@dataclass(frozen=True, slots=True)
class Template:
    text: str
    parts: tuple[str | tuple[Any, ...], ...]  # literal, ("path", getter, Path) or ("param", name)
    #: ``render(resource, index, params)``: the parts compiled into one function (every
    #: finding renders two templates; an attribute, not a method: no extra call)
    render: Renderer = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        object.__setattr__(self, "render", _compile(self.parts))


Renderer = Callable[[Mapping[str, Any], Any, Mapping[str, Any]], str]


def _compile(parts: tuple[str | tuple[Any, ...], ...]) -> Renderer:
    """One f-string over the parts' values; a value that is not a str goes through ``_show``."""
    namespace: dict[str, Any] = {"_show": _show, "_str": str}
    body, pieces = [], []
    for k, part in enumerate(parts):
        if isinstance(part, str):
            namespace[f"_l{k}"] = part
            pieces.append(f"{{_l{k}}}")
            continue
        if part[0] == "param":
            namespace[f"_n{k}"] = part[1]
            body.append(f"    v{k} = p.get(_n{k})")
        elif part[2].simple and len(part[2].segments) == 1:  # compile_getter's r.get(name)
            namespace[f"_n{k}"] = part[2].segments[0].name
            body.append(f"    v{k} = r.get(_n{k})")
        else:
            namespace[f"_g{k}"] = part[1]
            body.append(f"    v{k} = _g{k}(r, x)")
        body.append(f"    if type(v{k}) is not _str:\n        v{k} = _show(v{k})")
        pieces.append(f"{{v{k}}}")
    source = "def render(r, x, p):\n" + "\n".join(body) + f'\n    return f"{"".join(pieces)}"\n'
    code = _CODE.get(source)
    if code is None:  # the library's ~400 templates have a few dozen shapes: compile each once
        code = _CODE[source] = compile(source, "<template>", "exec")
    exec(code, namespace)  # names and constants only: no template text in the source
    render: Renderer = namespace["render"]
    return render


#: generated source -> its code object (the source names constants, never holds them)
_CODE: dict[str, CodeType] = {}


def _show(value: Any) -> str:
    if value is None:
        return "(unknown)"
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, list):
        return ", ".join(_show(v) for v in value)
    return str(value)


def parse_template(text: str, check_path: Callable[[str], Any]) -> Template:
    """Parse ``text``; ``check_path(path_text)`` validates a field path and returns a Path.

    Raises ValueError for an unbalanced brace or an empty placeholder.
    """
    parts: list[str | tuple[Any, ...]] = []
    pos = 0
    for match in _PLACEHOLDER.finditer(text):
        parts.append(text[pos : match.start()])
        pos = match.end()
        token = match.group(0)
        if token in ("{{", "}}"):
            parts.append(token[0])
            continue
        inner = (match.group(1) or "").strip()
        if not inner:
            raise ValueError("empty placeholder {} in template")
        if inner.startswith("$"):
            parts.append(("param", inner[1:]))
        else:
            if not _PLAIN_PATH.fullmatch(inner):
                raise ValueError(
                    f"placeholder {{{inner}}} is not a plain field path (no attribute access, "
                    "indexing, conversion or format spec in templates)"
                )
            path = check_path(inner)
            _refuse_past_scalar(path)
            getter: Getter = compile_getter(path)
            parts.append(("path", getter, path))
    rest = text[pos:]
    if "{" in rest or "}" in rest:
        raise ValueError("unbalanced brace in template (write {{ or }} for a literal brace)")
    parts.append(rest)
    return Template(text, tuple(p for p in parts if p != ""))


def _refuse_past_scalar(path: Path) -> None:
    """``{name.upper}``: a path that goes on after a scalar model field names nothing."""
    kind: str | None = path.kind
    for i, seg in enumerate(path.segments[:-1]):
        fields = FIELD_TYPES.get(kind) if kind else None
        if not kind or fields is None or seg.name == "raw":
            return  # inside raw or a nested object: the model does not say
        if fields.get(seg.name) in _SCALARS:
            rest = ".".join(s.name for s in path.segments[i + 1 :])
            raise ValueError(
                f"placeholder {{{path.text}}}: {seg.name} is a {fields[seg.name]} field, "
                f"it has no {rest!r}"
            )
        kind = REFERENCES.get((kind, seg.name))
