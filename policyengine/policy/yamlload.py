"""Safe YAML loading that remembers where every value came from.

Policies, waivers, config and access-as-code files are user input: they are
loaded with PyYAML's safe composer, and additionally refused when they use
tags (``!!python/object``), anchors or aliases (the alias bomb), duplicate
keys, or exceed a size bound. Every value's position is kept so that an error
can name ``file:line:col``.

>>> data, pos = load_yaml_text("a:\\n  b: [1, 2]\\n", "x.yaml")
>>> data, pos[("a", "b")]
({'a': {'b': [1, 2]}}, (2, 3))
"""

from __future__ import annotations

from collections.abc import Hashable
from pathlib import Path
from typing import Any

import yaml
from yaml.constructor import SafeConstructor
from yaml.nodes import MappingNode, Node, ScalarNode, SequenceNode

from policyengine.errors import Location, PolicyEngineError, PolicyError
from policyengine.lintcodes import E001, E002

MAX_BYTES = 1 << 20  # 1 MiB: far above any real policy file
MAX_NODES = 100_000
#: values nested deeper are refused: building them recurses once per level
MAX_DEPTH = 128
_ALLOWED_TAGS = {
    "tag:yaml.org,2002:str",
    "tag:yaml.org,2002:int",
    "tag:yaml.org,2002:float",
    "tag:yaml.org,2002:bool",
    "tag:yaml.org,2002:null",
    "tag:yaml.org,2002:map",
    "tag:yaml.org,2002:seq",
    "tag:yaml.org,2002:timestamp",
}

Positions = dict[tuple[Hashable, ...], tuple[int, int]]


# LibYAML's parser is 10x faster; aliases are then caught in _Builder by node identity.
_FastLoader = getattr(yaml, "CSafeLoader", None)


class _NoAliasLoader(yaml.SafeLoader):
    """SafeLoader that refuses anchors and aliases at the event level."""

    def compose_node(self, parent: Node | None, index: Any) -> Node | None:
        # types-PyYAML leaves Parser.peek_event unannotated (the C parser's stub has it typed)
        event = self.peek_event()  # type: ignore[no-untyped-call]
        if isinstance(event, yaml.AliasEvent) or getattr(event, "anchor", None):
            mark = event.start_mark
            raise _Refused("anchors and aliases are not allowed", mark.line + 1, mark.column + 1)
        return super().compose_node(parent, index)


class _Refused(Exception):
    def __init__(self, message: str, line: int, col: int) -> None:
        super().__init__(message)
        self.message, self.line, self.col = message, line, col


def load_yaml_text(
    text: str, filename: str, error: type[PolicyEngineError] = PolicyError
) -> tuple[Any, Positions]:
    """Parse ``text``; return the data and a map from key path to (line, col)."""
    if len(text.encode("utf-8", "surrogatepass")) > MAX_BYTES:
        raise error(f"file is larger than {MAX_BYTES} bytes", Location(filename), E001)
    loader = _FastLoader(text) if _FastLoader is not None else _NoAliasLoader(text)
    try:
        node = loader.get_single_node()
    except _Refused as exc:
        raise error(exc.message, Location(filename, exc.line, exc.col), E002) from None
    except yaml.reader.ReaderError as exc:  # a NUL or other control character
        at_line, at_col = _line_col(text, exc.position)
        code = int(exc.character)  # PyYAML (C and Python) gives the code point
        what = "NUL byte" if code == 0 else f"control character U+{code:04X}"
        raise error(
            f"invalid YAML: {what} (not allowed in YAML)",
            Location(filename, at_line, at_col),
            E001,
        ) from None
    except yaml.MarkedYAMLError as exc:
        mark = exc.problem_mark or exc.context_mark
        line, col = (mark.line + 1, mark.column + 1) if mark else (None, None)
        problem = exc.problem or exc.context or "invalid YAML"
        raise error(f"invalid YAML: {problem}", Location(filename, line, col), E001) from None
    except yaml.YAMLError as exc:
        raise error(f"invalid YAML: {exc}", Location(filename), E001) from None
    finally:
        loader.dispose()
    if "&" in text:
        _refuse_anchors(text, filename, error)
    positions: Positions = {}
    if node is None:
        return None, positions
    builder = _Builder(filename, positions, error)
    return builder.build(node, ()), positions


def _line_col(text: str, position: int) -> tuple[int, int]:
    """1-based line and column of character ``position`` in ``text``."""
    line = text.count("\n", 0, position) + 1
    return line, position - (text.rfind("\n", 0, position) + 1) + 1


def _refuse_anchors(text: str, filename: str, error: type[PolicyEngineError]) -> None:
    """An anchor without an alias is harmless, but the language has no use for either."""
    loader = _FastLoader(text) if _FastLoader is not None else yaml.SafeLoader(text)
    try:
        while loader.check_event():
            event = loader.get_event()
            if getattr(event, "anchor", None):
                mark = event.start_mark
                raise error(
                    "anchors and aliases are not allowed",
                    Location(filename, mark.line + 1, mark.column + 1),
                    E002,
                )
    finally:
        loader.dispose()


def load_yaml_file(
    path: Path, error: type[PolicyEngineError] = PolicyError
) -> tuple[Any, Positions]:
    """Read and parse ``path`` (UTF-8), refusing unsafe YAML."""
    try:
        raw = path.read_bytes()
    except OSError as exc:
        raise error(f"cannot read: {exc.strerror}", Location(str(path)), E001) from None
    if len(raw) > MAX_BYTES:
        raise error(f"file is larger than {MAX_BYTES} bytes", Location(str(path)), E001)
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise error(f"not UTF-8 (byte {exc.start})", Location(str(path)), E001) from None
    return load_yaml_text(text, str(path), error)


class _Builder:
    """Turn composed nodes into plain Python values, recording positions."""

    def __init__(self, filename: str, positions: Positions, error: type[PolicyEngineError]) -> None:
        self.filename = filename
        self.positions = positions
        self.error = error
        self.count = 0
        self.constructor = SafeConstructor()
        self.seen: set[int] = set()

    def _fail(self, message: str, node: Node, code: str = E002) -> PolicyEngineError:
        mark = node.start_mark
        return self.error(message, Location(self.filename, mark.line + 1, mark.column + 1), code)

    def build(self, node: Node, path: tuple[Hashable, ...]) -> Any:
        self.count += 1
        if self.count > MAX_NODES:
            raise self._fail(f"more than {MAX_NODES} values", node, E001)
        if len(path) > MAX_DEPTH:
            raise self._fail(f"values nest deeper than {MAX_DEPTH} levels", node, E001)
        if id(node) in self.seen:  # the same node twice: an alias (LibYAML resolves them)
            raise self._fail("anchors and aliases are not allowed", node)
        self.seen.add(id(node))
        if node.tag not in _ALLOWED_TAGS:
            raise self._fail(f"YAML tag {node.tag!r} is not allowed", node)
        self.positions[path] = (node.start_mark.line + 1, node.start_mark.column + 1)
        if isinstance(node, MappingNode):
            out: dict[Any, Any] = {}
            for key_node, value_node in node.value:
                if not isinstance(key_node, ScalarNode):
                    raise self._fail("mapping keys must be plain scalars", key_node)
                key = self.build(key_node, (*path, "<key>"))
                if not isinstance(key, Hashable):
                    raise self._fail("mapping key is not hashable", key_node)
                if key in out:
                    raise self._fail(f"duplicate key {key!r}", key_node)
                # Record the key's own position: errors about a key point at it.
                self.positions[(*path, key)] = (
                    key_node.start_mark.line + 1,
                    key_node.start_mark.column + 1,
                )
                out[key] = self.build(value_node, (*path, key))
                self.positions[(*path, key)] = (
                    key_node.start_mark.line + 1,
                    key_node.start_mark.column + 1,
                )
                self.positions[(*path, key, "<value>")] = (
                    value_node.start_mark.line + 1,
                    value_node.start_mark.column + 1,
                )
            self.positions.pop((*path, "<key>"), None)
            return out
        if isinstance(node, SequenceNode):
            return [self.build(item, (*path, i)) for i, item in enumerate(node.value)]
        try:
            return self.constructor.construct_object(node, deep=True)
        except (ValueError, yaml.YAMLError) as exc:  # e.g. an impossible date 2026-02-30
            raise self._fail(f"invalid value {node.value!r}: {exc}", node, E001) from None


def position_of(positions: Positions, path: tuple[Hashable, ...]) -> tuple[int | None, int | None]:
    """The closest known position for ``path`` (walking up to the parent)."""
    while path:
        if path in positions:
            return positions[path]
        path = path[:-1]
    return positions.get((), (None, None))
