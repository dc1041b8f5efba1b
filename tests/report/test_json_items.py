"""Items encoded from a worker's parts are exactly the items of the findings built from them."""

from __future__ import annotations

import datetime as dt

from policyengine.api import load_policy_set
from policyengine.engine.packed import _build
from policyengine.report.json import dump_items, item_encoder, parts_encoder


def test_items_from_parts_match_items_from_findings() -> None:
    policies = load_policy_set().bind(dt.datetime(2026, 1, 1, tzinfo=dt.UTC)).policies
    tricky = 'a\n    {"x": 1},\n    {\n    },\n    {'  # what separates items, inside strings
    parts = [
        ("account", "corp-ad", "u1", "alice", None, None, "m", (("p", True, "false"),), "r", "f1"),
        ("account", "corp-ad", "u2", tricky, "a.tf", 3, tricky, (("p", [1], tricky),), "", "f2"),
        (
            "account",
            "okta",
            "u3",
            "c",
            "",
            7,
            "m",
            (("p", {"k": []}, "e"), ("q", None, "e")),
            "r",
            "f3",
        ),
    ]
    entries = [
        (0, parts[0], ()),
        (1, parts[1], ((2, parts[2]), (0, parts[0]))),
        (2, parts[2], ()),
    ]
    encode = parts_encoder(policies)
    dumped, bounds = dump_items([encode(i, p, f) for i, p, f in entries])
    item = item_encoder()
    expected = [item(_build(policies, i, p, f)) for i, p, f in entries]
    assert [dumped[bounds[k] : bounds[k + 1] - 2] for k in range(len(entries))] == expected
    # consecutive items are one slice, joined as the report joins them
    assert dumped[bounds[0] : bounds[-1] - 2] == b",\n".join(expected)
