"""The operator table: one place that says what every operator means.

Each entry checks and prepares its argument once at compile time
(``prepare``) and then tests a present value cheaply (``test``); missing
values never reach ``test`` (the compiler handles them by ``on_missing``).
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
        Operator("exists", _bool_arg, lambda v, a: a, lambda a: "present" if a else "absent"),
        Operator("contains", _same, _contains, lambda a: f"contains {_show(a)}"),
        Operator("contains_any", _as_set, _contains_any, lambda a: f"contains any of {_show(a)}"),
        Operator("contains_all", _as_set, _contains_all, lambda a: f"contains all of {_show(a)}"),
        Operator("subset_of", _as_set, _subset_of, lambda a: f"only values from {_show(a)}"),
        Operator("matches", _regex, _matches, lambda a: f"matches /{a}/"),
        Operator("older_than", _cutoff, _older, lambda a: _when("before", a)),
        Operator("newer_than", _cutoff, _newer, lambda a: _when("after", a)),
    )
}
#: ``count`` is structural (it has a nested condition) and is handled by the compiler.
ALL_OPERATORS = (*OPERATORS, "count")
