"""The compact projection index answers exactly what the dict index answered."""

from __future__ import annotations

import pickle
import random
from typing import Any

from policyengine.engine.correlate import correlate
from policyengine.engine.index import ResourceIndex
from policyengine.engine.needs import Needs
from policyengine.engine.projections import ABSENT, ProjectionIndex


def _needs() -> Needs:
    needs = Needs(persons=True)
    needs.fields = {
        "account": {"enabled", "mfa", "roles", "privileged", "type"},
        "group": {"name"},
    }
    return needs


def _accounts(n: int, seed: int) -> list[dict[str, Any]]:
    """Accounts across three sources: shared emails in any case, employee ids, both, neither."""
    rng = random.Random(seed)
    out = []
    for i in range(n):
        person = rng.randrange(n // 2)
        record: dict[str, Any] = {
            "kind": "account",
            "id": f"u{i}",
            "source": rng.choice(["corp-ad", "okta", "sf"]),
            "source_type": "ldap",
        }
        shape = rng.random()
        if shape < 0.5:
            record["email"] = (
                f" User{person}@X.example " if rng.random() < 0.3 else f"user{person}@x.example"
            )
        elif shape < 0.7:
            record["employee_id"] = f"E{person % 50}"
        elif shape < 0.85:
            record["email"] = f"user{person}@x.example"
            record["employee_id"] = f"E{person % 50}"
        elif shape < 0.9:
            record["email"] = "not-an-email"
        if rng.random() < 0.8:
            record["name"] = rng.choice([f"n{i}", ""])
        if rng.random() < 0.1:
            record["type"] = rng.choice(["service", "human", None])
        if rng.random() < 0.7:
            record["enabled"] = rng.choice([True, False, None])
        if rng.random() < 0.5:
            record["mfa"] = rng.choice(
                [{"enrolled": True, "methods": ["webauthn"]}, {"enrolled": False}, {}]
            )
        if rng.random() < 0.3:
            record["roles"] = rng.choice([[], ["admin"], ["admin", "ops"]])
        out.append(record)
    return out


def _compact(accounts: list[dict[str, Any]], tasks: int) -> ProjectionIndex:
    """Rows built per task (as in the workers), pickled across, shared, added, correlated."""
    index = ProjectionIndex(_needs())
    shared: dict[bytes, Any] = {}
    size = len(accounts) // tasks + 1
    for start in range(0, len(accounts), size):
        builder = index.builder()
        rows = [builder.row(a) for a in accounts[start : start + size]]
        batches = pickle.loads(pickle.dumps({"account": rows}))
        index.share_shapes(batches, shared)
        index.add_rows("account", batches["account"])
    index.correlate()
    return index


def _projection(account: dict[str, Any], needs: Needs) -> dict[str, Any]:
    keep = needs.projection_fields("account") or ()
    return {k: account[k] for k in keep if k in account}


def test_persons_and_accounts_equal_the_dict_correlation():
    for seed in range(5):
        accounts = _accounts(600, seed)
        needs = _needs()
        projections = [_projection(a, needs) for a in accounts]
        persons = correlate(projections)
        drop = needs.correlation_only("account")
        expected = ResourceIndex(
            [{k: v for k, v in p.items() if k not in drop} for p in projections]
        )
        compact = _compact(accounts, tasks=4)

        assert sorted(compact.person_ids()) == [p["id"] for p in persons]
        for person in persons:
            assert compact.get("person", "correlation", person["id"]) == person
        for a in accounts:
            got = compact.get("account", a["source"], a["id"])
            want = expected.get("account", a["source"], a["id"])
            assert got == want
            assert list(got or ()) == list(want or ())  # the same key order
            want_ref = (want or {}).get("person")
            assert compact.person_of(a) == want_ref
        # warmed lookups (built before forking, with their own strings) answer the same
        before = {
            (a["source"], a["id"]): compact.get("account", a["source"], a["id"]) for a in accounts
        }
        people = {p["id"]: compact.get("person", "correlation", p["id"]) for p in persons}
        assert (
            compact.warm(("account", a["source"], a["id"]) for a in accounts[::7])
            > len(accounts) // 7
        )
        for (source, rid), want in before.items():
            got = compact.get("account", source, rid)
            assert got == want and list(got or ()) == list(want or ())
        for pid, person in people.items():
            assert compact.get("person", "correlation", pid) == person
        # several accounts to one person, and one account with two keys, both occur
        assert any(len(p["accounts"]) > 1 for p in persons)
        assert any(p["emails"] and p["employee_id"] for p in persons)


def test_equal_shapes_are_one_object_across_tasks():
    accounts = [
        {
            "kind": "account",
            "id": f"u{i}",
            "source": "okta",
            "enabled": True,
            "mfa": {"enrolled": True},
        }
        for i in range(100)
    ]
    index = _compact(accounts, tasks=5)
    rows = list(index.rows("account"))
    assert len({id(r[3]) for r in rows}) == 1
    assert rows[0][3][0] is not ABSENT


def test_a_missing_reference_and_the_group_to_role_fallback():
    needs = Needs(fields={"group": {"name"}})
    index = ProjectionIndex(needs)
    builder = index.builder()
    index.add_rows(
        "role", [builder.row({"kind": "role", "id": "r1", "source": "sf", "name": "Admin"})]
    )
    assert index.resolve("r1", "sf", "group") == {
        "id": "r1",
        "kind": "role",
        "name": "Admin",
        "source": "sf",
    }
    assert index.resolve("nope", "sf", "group") is None
    assert index.resolve({"id": "r1", "source": "sf"}, "okta", "role") is not None
    assert index.resolve(42, "sf", "role") is None
