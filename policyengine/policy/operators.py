"""The operator table: one place that says what every operator means.

Each entry checks and prepares its argument once at compile time
(``prepare``) and then tests a value cheaply (``test``). Its traits say how the
compiler treats it, so the compiler has no per-operator cases:

- ``sees_missing``: ``test`` also gets a missing value (``None``) and decides
  itself (``exists``, ``eq_or_missing``); for every other operator a missing
  value is missing (Kleene logic, then ``on_missing``) and never reaches ``test``.
- ``timestamps``: the field must be a timestamp (``older_than``, ...).
- ``nested``: the argument holds comparisons and a ``where:`` condition,
  which the compiler builds (``count``); ``test`` compares the count.

The explain tree walker and the generated code both call ``test``: an
operator's meaning is written once, here.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from policyengine.policy.duration import format_timestamp, parse_duration
from policyengine.policy.regexsafety import Pattern, compile_regex


@dataclass(frozen=True, slots=True)
class Operator:
    name: str
    prepare: Callable[[Any, Any], Any]  # (argument, context) -> prepared argument
    test: Callable[[Any, Any], bool]  # (value, prepared) -> holds?
    describe: Callable[[Any], str]  # original argument -> "expected" text for evidence
    sees_missing: bool = False
    timestamps: bool = False
    nested: bool = False
    #: optional Python expression for the generated code, from the value's expression and
    #: the prepared argument; must agree with ``test`` (the explain-vs-evaluate test checks)
    inline: Callable[[str, Any], str] | None = None


def _same(arg: Any, _ctx: Any) -> Any:
    return arg


def _eq(value: Any, arg: Any) -> bool:
    if isinstance(arg, bool) or isinstance(value, bool):
        return value is arg
    return bool(value == arg)


def _as_set(arg: Any, _ctx: Any) -> frozenset[Any]:
    if not isinstance(arg, list):
        raise ValueError(f"expects a list, got {arg!r}")
    try:
        return frozenset(arg)
    except TypeError:
        raise ValueError("list items must be plain values") from None


def _in(value: Any, arg: frozenset[Any]) -> bool:
    try:
        return value in arg
    except TypeError:
        return False


def _ordered(op: Callable[[Any, Any], bool]) -> Callable[[Any, Any], bool]:
    def test(value: Any, arg: Any) -> bool:
        if isinstance(value, bool):
            return False
        try:
            return op(value, arg)
        except TypeError:
            return False

    return test


def _number(arg: Any, _ctx: Any) -> Any:
    if isinstance(arg, bool) or not isinstance(arg, int | float | str):
        raise ValueError(f"expects a number, string or timestamp, got {arg!r}")
    return arg


def _contains(value: Any, arg: Any) -> bool:
    if isinstance(value, list):
        return arg in value
    if isinstance(value, str) and isinstance(arg, str):
        return arg in value
    return False


def _contains_any(value: Any, arg: frozenset[Any]) -> bool:
    if isinstance(value, list):
        return any(_in(v, arg) for v in value)
    return _in(value, arg)


def _contains_all(value: Any, arg: frozenset[Any]) -> bool:
    if not isinstance(value, list):
        return False
    try:
        return arg.issubset(value)
    except TypeError:
        return False


def _subset_of(value: Any, arg: frozenset[Any]) -> bool:
    if not isinstance(value, list):
        return _in(value, arg)
    return all(_in(v, arg) for v in value)


def _regex(arg: Any, _ctx: Any) -> Pattern:
    if not isinstance(arg, str):
        raise ValueError(f"expects a regular expression string, got {arg!r}")
    return compile_regex(arg)


def _matches(value: Any, arg: Pattern) -> bool:
    # On a list (e.g. delegation.constrained_to) any element matching is enough.
    if isinstance(value, list):
        return any(isinstance(v, str) and arg.search(v) is not None for v in value)
    return isinstance(value, str) and arg.search(value) is not None


def _cutoff(arg: Any, ctx: Any) -> str:
    # Done once per compile: the per-resource test is a string comparison,
    # valid because snapshot timestamps are all YYYY-MM-DDTHH:MM:SSZ.
    try:
        return format_timestamp(ctx.now - parse_duration(arg))
    except OverflowError:
        raise ValueError(f"duration {arg!r} reaches outside the calendar") from None


def _ahead(arg: Any, ctx: Any) -> str:
    """``expires_within: 7d``: the cutoff now + 7 days (a timestamp before it is due)."""
    span = parse_duration(arg)
    # "-7d" is the older_than spelling of the same window; accepted so that a
    # parameter overridden in the old form keeps its meaning (lint suggests 7d)
    try:
        return format_timestamp(ctx.now + abs(span))
    except OverflowError:
        raise ValueError(f"duration {arg!r} reaches outside the calendar") from None


def _within(arg: Any) -> str:
    text = str(arg).strip().lstrip("-")
    return f"before now + {text}"


def _older(value: Any, cutoff: str) -> bool:
    return isinstance(value, str) and value < cutoff


def _newer(value: Any, cutoff: str) -> bool:
    return isinstance(value, str) and value > cutoff


def _when(relation: str, arg: Any) -> str:
    text = str(arg)
    if text.startswith("-"):
        return f"{relation} now + {text[1:]}"
    if text.strip() in ("0d", "0h", "0m", "0s"):
        return f"{relation} now"
    return f"{relation} now - {text}" if relation == "after" else f"older than {text}"


def _bool_arg(arg: Any, _ctx: Any) -> bool:
    if not isinstance(arg, bool):
        raise ValueError(f"expects true or false, got {arg!r}")
    return arg


def _show(arg: Any) -> str:
    if isinstance(arg, bool):
        return "true" if arg else "false"
    if isinstance(arg, list):
        return "[" + ", ".join(_show(a) for a in arg) + "]"
    return str(arg)


def _exists(value: Any, want: bool) -> bool:
    return (value is not None) is want


def _eq_or_missing(value: Any, arg: Any) -> bool:
    return value is None or _eq(value, arg)


def _built_by_compiler(*_: Any) -> Any:
    # a nested operator's argument and test are built by the compiler (conditions.py)
    raise AssertionError("count is compiled from its comparisons and where:")


OPERATORS: dict[str, Operator] = {
    op.name: op
    for op in (
        Operator("eq", _same, _eq, lambda a: f"= {_show(a)}"),
        Operator("ne", _same, lambda v, a: not _eq(v, a), lambda a: f"!= {_show(a)}"),
        Operator("in", _as_set, _in, lambda a: f"one of {_show(a)}"),
        Operator("not_in", _as_set, lambda v, a: not _in(v, a), lambda a: f"none of {_show(a)}"),
        Operator("lt", _number, _ordered(lambda v, a: v < a), lambda a: f"< {_show(a)}"),
        Operator("lte", _number, _ordered(lambda v, a: v <= a), lambda a: f"<= {_show(a)}"),
        Operator("gt", _number, _ordered(lambda v, a: v > a), lambda a: f"> {_show(a)}"),
        Operator("gte", _number, _ordered(lambda v, a: v >= a), lambda a: f">= {_show(a)}"),
        Operator(
            "exists",
            _bool_arg,
            _exists,
            lambda a: "present" if a else "absent",
            sees_missing=True,
            inline=lambda get, want: f"({get} is {'not ' if want else ''}None)",
        ),
        Operator(
            "eq_or_missing",
            _same,
            _eq_or_missing,
            lambda a: f"= {_show(a)} or missing",
            sees_missing=True,
        ),
        Operator("contains", _same, _contains, lambda a: f"contains {_show(a)}"),
        Operator("contains_any", _as_set, _contains_any, lambda a: f"contains any of {_show(a)}"),
        Operator("contains_all", _as_set, _contains_all, lambda a: f"contains all of {_show(a)}"),
        Operator("subset_of", _as_set, _subset_of, lambda a: f"only values from {_show(a)}"),
        Operator("matches", _regex, _matches, lambda a: f"matches /{a}/"),
        Operator("older_than", _cutoff, _older, lambda a: _when("before", a), timestamps=True),
        Operator("newer_than", _cutoff, _newer, lambda a: _when("after", a), timestamps=True),
        Operator("expires_within", _ahead, _older, _within, timestamps=True),
        Operator("count", _built_by_compiler, _built_by_compiler, lambda a: "count", nested=True),
    )
}
#: the operators ``count`` compares a number with
COUNT_COMPARISONS = ("eq", "ne", "lt", "lte", "gt", "gte")
#: every operator name, for messages and docs
ALL_OPERATORS = tuple(OPERATORS)
