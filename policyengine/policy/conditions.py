"""Compile policy conditions into evaluable nodes and fast Python code.

A condition compiles to a tree of nodes. The tree gives three-valued results
(True, False, None for missing) and, for resources that fail, the evidence.
The engine's hot path does not walk the tree: :func:`emit` turns it into a
Python expression that is compiled once per policy set, so evaluating a
resource is a handful of dictionary reads and comparisons.

Missing values follow Kleene logic: ``all`` is False if any part is False,
else missing if any part is missing; ``any`` is True if any part is True,
else missing if any is; ``not`` keeps missing. The fast expression gets the
same answer by substituting, for each leaf, the value that the policy's
``on_missing`` asks for under that leaf's polarity.
"""

from __future__ import annotations

import datetime as dt
import difflib
from collections.abc import Callable, Hashable, Mapping
from dataclasses import dataclass, field
from typing import Any, ClassVar

from policyengine.errors import Location, PolicyError
from policyengine.lintcodes import E102, E103, E104, E105, E106, E109
from policyengine.model.evidence import Evidence
from policyengine.model.kinds import FIELD_TYPES, OBJECT_FIELDS, REFERENCES, TIMESTAMP_FIELDS
from policyengine.model.provided import covers, not_provided_of
from policyengine.policy.operators import ALL_OPERATORS, COUNT_COMPARISONS, OPERATORS, Operator
from policyengine.policy.paths import Getter, Path, compile_getter, parse_path
from policyengine.policy.yamlload import Positions, position_of

COMBINATORS = ("all", "any", "not")
#: how deeply all/any/not/count-where may nest: the generated code and the evidence
#: walk recurse once per level (real policies nest 3 or 4)
MAX_NESTING = 32
_NESTING_KEYS = frozenset((*COMBINATORS, "where"))
#: pseudo-kind for items of free-form lists, whose fields the model does not know
UNCHECKED = "_item"


@dataclass(slots=True)
class CompileContext:
    """What compiling one policy needs: the clock, parameters and positions."""

    file: str
    positions: Positions
    now: dt.datetime
    params: Mapping[str, Any]
    kind: str
    used_params: set[str] = field(default_factory=set)

    def error(self, message: str, yaml_path: tuple[Hashable, ...], code: str) -> PolicyError:
        line, col = position_of(self.positions, yaml_path)
        return PolicyError(message, Location(self.file, line, col), code)


def not_provided(r: Mapping[str, Any], x: Any, path: str) -> bool:
    """``path`` is absent on ``r`` because its source declares it cannot provide it."""
    table = not_provided_of(x)
    return table is not None and table.reason(r, path) is not None


class Node:
    """A compiled condition."""

    def eval(self, r: Mapping[str, Any], x: Any) -> bool | None:
        raise NotImplementedError

    def evidence(self, r: Mapping[str, Any], x: Any, want: bool) -> list[Evidence]:
        """Evidence for why this node is not ``want`` on ``r``."""
        raise NotImplementedError


@dataclass(slots=True)
class Leaf(Node):
    path: Path
    getter: Getter
    op: Operator
    arg: Any  # prepared
    original: Any  # as written (after parameter substitution)
    #: the value this leaf takes where its source declares the field not provided: the
    #: one that leads to no finding at its position (set by :func:`assign_not_provided`)
    np_value: bool = True
    #: ``op.describe(original)``, worked out once (it is in every finding's evidence)
    described: str | None = None

    def eval(self, r: Mapping[str, Any], x: Any) -> bool | None:
        return self._decide(self.getter(r, x), r, x)

    def _decide(self, value: Any, r: Mapping[str, Any], x: Any) -> bool | None:
        if value is None:
            if not_provided(r, x, self.path.text):
                return self.np_value
            if not self.op.sees_missing:
                return None
        return self.op.test(value, self.arg)

    def evidence(self, r: Mapping[str, Any], x: Any, want: bool) -> list[Evidence]:
        value = self.getter(r, x)
        if self._decide(value, r, x) is want:
            return []
        expected = self.described
        if expected is None:
            expected = self.described = self.op.describe(self.original)
        if not want:
            expected = f"not {expected}"
        return [Evidence(self.path.text, "missing" if value is None else value, expected)]


@dataclass(slots=True)
class Count(Node):
    """``count`` over a list, optionally of the items matching ``where``."""

    path: Path
    getter: Getter
    where: Node | None
    tests: list[tuple[Operator, Any, Any]]
    np_value: bool = True  # as Leaf.np_value, for a list the source does not provide

    def bounds(self, r: Mapping[str, Any], x: Any) -> tuple[int, int] | None:
        """The smallest and largest count the data allows (unknown items may go either way)."""
        items = self.getter(r, x)
        if not isinstance(items, list):
            return None  # absent list: the count is unknown, not zero
        if self.where is None:
            return len(items), len(items)
        definite = unknown = 0
        for item in items:
            if not isinstance(item, Mapping):
                unknown += 1  # a dangling reference
                continue
            got = self.where.eval(item, x)
            if got is True:
                definite += 1
            elif got is None:
                unknown += 1
        return definite, definite + unknown

    def number(self, r: Mapping[str, Any], x: Any) -> int | None:
        found = self.bounds(r, x)
        return None if found is None or found[0] != found[1] else found[0]

    def eval(self, r: Mapping[str, Any], x: Any) -> bool | None:
        found = self.bounds(r, x)
        if found is None:
            return self.np_value if not_provided(r, x, self.path.text) else None
        lo, hi = found
        if lo == hi:  # the common case: the count is known
            return all(op.test(lo, arg) for op, arg, _ in self.tests)
        if hi - lo > 1000:
            return None
        outcomes = {all(op.test(n, arg) for op, arg, _ in self.tests) for n in range(lo, hi + 1)}
        return outcomes.pop() if len(outcomes) == 1 else None

    def evidence(self, r: Mapping[str, Any], x: Any, want: bool) -> list[Evidence]:
        if self.eval(r, x) is want:
            return []
        expected = " and ".join(op.describe(orig) for op, _, orig in self.tests)
        if not want:
            expected = f"not {expected}"
        label = (
            f"{self.path.text} (count)"
            if self.where is None
            else f"{self.path.text} (count where condition holds)"
        )
        found = self.bounds(r, x)
        if found is None:
            return [Evidence(label, "missing", f"count {expected}")]
        lo, hi = found
        if lo != hi:
            return [
                Evidence(
                    label,
                    f"unknown: between {lo} and {hi} (items with missing data)",
                    f"count {expected}",
                )
            ]
        if self.where is None:
            return [Evidence(label, lo, expected)]
        # name the items that were counted, so that the evidence says *which* accounts
        counted = [
            _describe_item(item)
            for item in self.getter(r, x) or []
            if isinstance(item, Mapping) and self.where.eval(item, x) is True
        ]
        return [Evidence(label, counted, f"count {expected}")]


def _describe_item(item: Mapping[str, Any]) -> str:
    """A counted item in evidence: a resource by source/name, a plain object compactly."""
    if "kind" in item and "id" in item:
        return f"{item.get('source', '?')}/{item.get('name') or item['id']}"
    text = ", ".join(f"{k}: {v}" for k, v in item.items() if k != "raw")
    return text if len(text) <= 80 else text[:77] + "..."


@dataclass(slots=True)
class _Junction(Node):
    """``all`` / ``any`` in Kleene logic: the decisive value wins, else missing, else the other."""

    parts: list[Node]
    decisive: ClassVar[bool]

    def eval(self, r: Mapping[str, Any], x: Any) -> bool | None:
        missing = False
        for part in self.parts:
            got = part.eval(r, x)
            if got is self.decisive:
                return got
            if got is None:
                missing = True
        return None if missing else not self.decisive

    def evidence(self, r: Mapping[str, Any], x: Any, want: bool) -> list[Evidence]:
        # every part that is not as wanted is a reason (for all: the failing parts;
        # for any: all parts failed, or under `not`, the parts that held)
        out: list[Evidence] = []
        for part in self.parts:
            out.extend(part.evidence(r, x, want))
        return out


class All(_Junction):
    decisive = False


class Any_(_Junction):
    decisive = True


@dataclass(slots=True)
class Not(Node):
    part: Node

    def eval(self, r: Mapping[str, Any], x: Any) -> bool | None:
        got = self.part.eval(r, x)
        return None if got is None else not got

    def evidence(self, r: Mapping[str, Any], x: Any, want: bool) -> list[Evidence]:
        return self.part.evidence(r, x, not want)


# -- building -------------------------------------------------------------


def substitute(value: Any, ctx: CompileContext, yaml_path: tuple[Hashable, ...]) -> Any:
    """Replace ``$name`` with the parameter's value (also inside lists)."""
    if isinstance(value, str) and value.startswith("$") and len(value) > 1:
        name = value[1:]
        if name not in ctx.params:
            hint = _did_you_mean(name, ctx.params)
            raise ctx.error(f"unknown parameter ${name}{hint}", yaml_path, E105)
        ctx.used_params.add(name)
        return ctx.params[name]
    if isinstance(value, list):
        return [substitute(v, ctx, (*yaml_path, i)) for i, v in enumerate(value)]
    return value


def _did_you_mean(word: str, choices: Any) -> str:
    close = difflib.get_close_matches(str(word), [str(c) for c in choices], n=1, cutoff=0.6)
    return f" (did you mean '{close[0]}'?)" if close else ""


def check_path(text: str, kind: str, ctx: CompileContext, yaml_path: tuple[Hashable, ...]) -> Path:
    """Parse a field path and check each segment against the model."""
    try:
        path = parse_path(text, kind)
    except ValueError as exc:
        raise ctx.error(str(exc), yaml_path, E103) from None
    current: str | None = kind if kind in FIELD_TYPES else None
    parent_object: str | None = None
    for i, seg in enumerate(path.segments):
        if current is not None:
            fields = FIELD_TYPES[current]
            if seg.name not in fields:
                hint = _did_you_mean(seg.name, fields)
                where = f"{current} field" if i == 0 else f"field of {current} (in {text!r})"
                raise ctx.error(f"unknown {where} {seg.name!r}{hint}", yaml_path, E103)
            if seg.name == "raw":
                return path  # free-form: the source's own attributes
            parent_object = seg.name if fields[seg.name] == "object" else None
            current = REFERENCES.get((current, seg.name))
        elif parent_object is not None:
            known = OBJECT_FIELDS.get(parent_object)
            if known is not None and seg.name not in known:
                hint = _did_you_mean(seg.name, known)
                raise ctx.error(
                    f"unknown field {seg.name!r} of {parent_object}{hint}", yaml_path, E103
                )
            parent_object = None
        else:
            break
    return path


def build(data: Any, ctx: CompileContext, yaml_path: tuple[Hashable, ...], kind: str) -> Node:
    """Compile a condition (``path: value``, ``path: {op: arg}``, all/any/not)."""
    if sum(1 for part in yaml_path if part in _NESTING_KEYS) > MAX_NESTING:
        raise ctx.error(
            f"conditions nest deeper than {MAX_NESTING} levels of all/any/not/count where",
            yaml_path,
            E109,
        )
    if not isinstance(data, Mapping) or not data:
        raise ctx.error(
            "a condition is a mapping: `field: value`, `field: {operator: argument}`, "
            "or all/any/not",
            yaml_path,
            E102,
        )
    parts: list[Node] = []
    for key, value in data.items():
        sub = (*yaml_path, key)
        if key in ("all", "any"):
            if not isinstance(value, list) or not value:
                raise ctx.error(f"`{key}` takes a non-empty list of conditions", sub, E102)
            children = [build(v, ctx, (*sub, i), kind) for i, v in enumerate(value)]
            parts.append(All(children) if key == "all" else Any_(children))
        elif key == "not":
            parts.append(Not(build(value, ctx, sub, kind)))
        elif not isinstance(key, str):
            raise ctx.error(f"a field path must be a string, got {key!r}", sub, E103)
        else:
            parts.extend(_field_condition(key, value, ctx, sub, kind))
    return parts[0] if len(parts) == 1 else All(parts)


def _field_condition(
    text: str, value: Any, ctx: CompileContext, yaml_path: tuple[Hashable, ...], kind: str
) -> list[Node]:
    path = check_path(text, kind, ctx, yaml_path)
    if not isinstance(value, Mapping):
        value = substitute(value, ctx, yaml_path)
        op = OPERATORS["eq"]
        return [Leaf(path, compile_getter(path), op, value, value)]
    if not value:
        raise ctx.error(f"no operator given for {text!r}", yaml_path, E104)
    nodes: list[Node] = []
    for op_name, arg in value.items():
        sub = (*yaml_path, op_name)
        if op_name not in OPERATORS:
            hint = _did_you_mean(op_name, ALL_OPERATORS)
            raise ctx.error(
                f"unknown operator {op_name!r}{hint}; operators: {', '.join(ALL_OPERATORS)}",
                sub,
                E104,
            )
        if OPERATORS[op_name].nested:
            nodes.append(_count(path, arg, ctx, sub))
        else:
            nodes.append(_leaf(path, op_name, arg, ctx, sub))
    return nodes


def _leaf(
    path: Path, op_name: str, arg: Any, ctx: CompileContext, yaml_path: tuple[Hashable, ...]
) -> Leaf:
    op = OPERATORS[op_name]
    arg = substitute(arg, ctx, yaml_path)
    if op.timestamps:
        last = path.segments[-1].name
        if last not in TIMESTAMP_FIELDS and path.segments[0].name != "raw":
            raise ctx.error(
                f"{op_name} needs a timestamp field ({', '.join(sorted(TIMESTAMP_FIELDS))}), "
                f"not {path.text!r}",
                yaml_path,
                E106,
            )
    try:
        prepared = op.prepare(arg, ctx)
    except ValueError as exc:
        raise ctx.error(f"{op_name}: {exc}", yaml_path, E106) from None
    return Leaf(path, compile_getter(path), op, prepared, arg)


def _count(path: Path, arg: Any, ctx: CompileContext, yaml_path: tuple[Hashable, ...]) -> Count:
    if not isinstance(arg, Mapping) or not arg:
        raise ctx.error(
            "count takes comparisons, e.g. {gte: 2}, and optionally where: {condition}",
            yaml_path,
            E106,
        )
    where: Node | None = None
    tests: list[tuple[Operator, Any, Any]] = []
    target = path.final_ref_kind
    for op_name, op_arg in arg.items():
        sub = (*yaml_path, op_name)
        if op_name == "where":
            if target is None and path.segments[0].name != "raw":
                # items of a non-reference list are plain objects: paths are unchecked
                where = _build_unchecked(op_arg, ctx, sub)
            else:
                where = (
                    build(op_arg, ctx, sub, target)
                    if target
                    else _build_unchecked(op_arg, ctx, sub)
                )
            continue
        if op_name not in COUNT_COMPARISONS:
            hint = _did_you_mean(op_name, (*COUNT_COMPARISONS, "where"))
            raise ctx.error(f"count does not take {op_name!r}{hint}", sub, E104)
        value = substitute(op_arg, ctx, sub)
        if isinstance(value, bool) or not isinstance(value, int):
            raise ctx.error(f"count {op_name} needs a whole number, got {value!r}", sub, E106)
        tests.append((OPERATORS[op_name], value, value))
    if not tests:
        raise ctx.error("count needs at least one comparison (eq, lt, gte, ...)", yaml_path, E106)
    getter = compile_getter(path, deref_last=where is not None)
    return Count(path, getter, where, tests)


def _build_unchecked(data: Any, ctx: CompileContext, yaml_path: tuple[Hashable, ...]) -> Node:
    """Conditions over plain objects inside lists: field names cannot be checked."""
    return build(data, ctx, yaml_path, UNCHECKED)


def assign_not_provided(node: Node, want: bool) -> None:
    """Give every leaf the value it takes over a field its source does not provide.

    ``want`` is the value of ``node`` that leads to no finding: True for ``require``,
    False for ``match`` (the policy does not apply); ``not`` flips it. Inside a count's
    ``where``, an item counts when the count has a lower bound (``gte: 1``: an item
    that cannot be judged is not held against the resource) and does not count under
    an upper bound or ``eq``. The tree and the generated code both read these values,
    so they agree.
    """
    if isinstance(node, Leaf):
        node.np_value = want
    elif isinstance(node, _Junction):
        for part in node.parts:
            assign_not_provided(part, want)
    elif isinstance(node, Not):
        assign_not_provided(node.part, not want)
    elif isinstance(node, Count):
        node.np_value = want
        if node.where is not None:
            lower = all(op.name in ("gt", "gte", "ne") for op, _, _ in node.tests)
            assign_not_provided(node.where, want if lower else not want)


# -- fast code ------------------------------------------------------------


@dataclass(slots=True)
class Emitter:
    """Collects the constants that generated code refers to by index."""

    getters: list[Getter] = field(default_factory=list)
    tests: list[Callable[[Any, Any], bool]] = field(default_factory=list)
    args: list[Any] = field(default_factory=list)
    nodes: list[Node] = field(default_factory=list)
    counter: int = 0

    def add(self, bucket: list[Any], item: Any) -> int:
        bucket.append(item)
        return len(bucket) - 1

    def var(self) -> str:
        self.counter += 1
        return f"_v{self.counter}"


def emit(node: Node, em: Emitter, missing_value: bool, np: frozenset[str] = frozenset()) -> str:
    """A Python expression for ``node`` that is True when it holds.

    ``missing_value`` is what a missing leaf counts as at this polarity. A leaf over a
    field named in ``np`` (declared not provided by some source), when missing, first
    asks whether the resource's source declares it (then it is the leaf's ``np_value``);
    every other leaf is the plain, fast code.
    """
    if isinstance(node, All):
        return "(" + " and ".join(emit(p, em, missing_value, np) for p in node.parts) + ")"
    if isinstance(node, Any_):
        return "(" + " or ".join(emit(p, em, missing_value, np) for p in node.parts) + ")"
    if isinstance(node, Not):
        return "(not " + emit(node.part, em, not missing_value, np) + ")"
    if isinstance(node, Count):
        i = em.add(em.nodes, node)
        v = em.var()
        return f"({missing_value} if ({v} := N[{i}].eval(r, X)) is None else {v})"
    assert isinstance(node, Leaf)
    segs = node.path.segments
    if len(segs) == 1 and not segs[0].star:
        get = f"r.get({segs[0].name!r})"
    else:
        get = f"G[{em.add(em.getters, node.getter)}](r, X)"
    if np and any(covers(name, node.path.text) for name in np):
        return _emit_np_leaf(node, em, get, missing_value)
    name = node.op.name
    if node.op.inline is not None:
        return node.op.inline(get, node.arg)
    if name == "eq_or_missing" and type(node.arg) in (bool, str):
        # _eq_or_missing: missing, or (a bool) the same object, or (a string) equal
        v = em.var()
        same = (
            f"{v} is {node.arg}"
            if type(node.arg) is bool
            else f"{v} == K[{em.add(em.args, node.arg)}]"
        )
        return f"(({v} := {get}) is None or {same})"
    if node.op.sees_missing:
        # the operator decides on a missing value itself: no on_missing substitution
        t = em.add(em.tests, node.op.test)
        a = em.add(em.args, node.arg)
        return f"T[{t}]({get}, K[{a}])"
    v = em.var()
    if name == "eq" and isinstance(node.arg, bool):
        if missing_value:
            return f"(({v} := {get}) is {node.arg} or {v} is None)"
        return f"({get} is {node.arg})"
    a = em.add(em.args, node.arg)
    if name in ("eq", "ne") and type(node.arg) is str:
        # _eq on a string: no bool, number, list or object equals it
        return f"({missing_value} if ({v} := {get}) is None else {v} {'==' if name == 'eq' else '!='} K[{a}])"
    if name in ("in", "not_in") and _all_strings(node.arg):
        # _in on strings only: what is not a string is in none (and may be unhashable)
        test = f"(isinstance({v}, str) and {v} in K[{a}])"
        return f"({missing_value} if ({v} := {get}) is None else {test if name == 'in' else 'not ' + test})"
    if name in _TIME_COMPARISONS and type(node.arg) is str:
        # _older/_newer: timestamps compare as strings (normalised by the reader)
        test = f"(isinstance({v}, str) and {v} {_TIME_COMPARISONS[name]} K[{a}])"
        return f"({missing_value} if ({v} := {get}) is None else {test})"
    t = em.add(em.tests, node.op.test)
    return f"({missing_value} if ({v} := {get}) is None else T[{t}]({v}, K[{a}]))"


_TIME_COMPARISONS = {"older_than": "<", "expires_within": "<", "newer_than": ">"}


def _all_strings(arg: Any) -> bool:
    return isinstance(arg, frozenset) and all(type(item) is str for item in arg)


def _emit_np_leaf(node: Leaf, em: Emitter, get: str, missing_value: bool) -> str:
    """A leaf that, when its value is missing, asks whether the source provides the field."""
    v = em.var()
    t = em.add(em.tests, node.op.test)
    a = em.add(em.args, node.arg)
    when_missing = str(missing_value)
    if node.op.sees_missing:  # the operator decides on a missing value itself
        when_missing = f"T[{t}](None, K[{a}])"
    return (
        f"(({node.np_value} if P(r, X, {node.path.text!r}) else {when_missing})"
        f" if ({v} := {get}) is None else T[{t}]({v}, K[{a}]))"
    )
