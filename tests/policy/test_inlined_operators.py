"""Operators the code generator writes inline answer as the operator's own test does."""

from __future__ import annotations

import datetime as dt

import orjson
import pytest

from policyengine.api import load_policy_set
from policyengine.engine.evaluate import evaluate


class _Str(str):
    """A str subclass (an in-memory caller's enum, say): tests use isinstance."""


#: a value of every JSON type, strings equal and unequal to the arguments, timestamps
#: either side of the cutoffs, and a str subclass
VALUES = [
    "admin",
    "Admin",
    "",
    _Str("admin"),
    True,
    False,
    0,
    1,
    1.5,
    ["admin"],
    {"a": "admin"},
    None,
    "2026-01-01T00:00:00Z",
    "2026-12-01T00:00:00Z",
    "2027-06-01T00:00:00Z",
]


@pytest.mark.parametrize(
    "op, arg",
    [
        ("eq", "admin"),
        ("ne", "admin"),
        ("in", ["admin", "ops"]),
        ("not_in", ["admin", "ops"]),
        ("eq_or_missing", True),
        ("eq_or_missing", False),
        ("eq_or_missing", "admin"),
        ("older_than", "90d"),
        ("newer_than", "90d"),
        ("expires_within", "30d"),
    ],
)
@pytest.mark.parametrize("on_missing", ["fail", "pass"])
def test_generated_code_agrees_with_the_operator(write_policy, op, arg, on_missing):
    field = "expires_at" if op in ("older_than", "newer_than", "expires_within") else "type"
    path = write_policy(
        "id: PE-T-001\ntitle: t\nseverity: low\nresource: account\n"
        f"require: {{{field}: {{{op}: {orjson.dumps(arg).decode()}}}}}\n"
        f"on_missing: {on_missing}\nremediation: fix\n"
    )
    bound = load_policy_set([path]).bind(dt.datetime(2026, 11, 1, tzinfo=dt.UTC))
    assert "T[" not in bound.source_code["account"], "the operator was inlined"
    leaf = bound.policies[0].require
    for value in VALUES:
        record = {"kind": "account", "id": "u", "source": "s", "source_type": "okta", field: value}
        holds = leaf.eval(record, None)  # the condition tree: the operator's own test
        found = bool(evaluate(bound, [record], None))
        want = (on_missing == "fail") if holds is None else not holds
        assert found is want, (op, value)
