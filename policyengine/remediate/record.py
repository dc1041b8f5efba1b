"""The ``actions`` rows of the history database (migration 3).

One row per step ``remediate apply`` attempted, written in its own
transaction right after the step, so an apply interrupted half-way and run
again sees what is done and repeats nothing. Facts never hold secrets (the
actions' contract), so before/after are stored as given.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import asdict, dataclass
from typing import Any

from policyengine.history import HistoryStore

#: results that mean "this step is done": a rerun of the same plan skips it
DONE = frozenset({"applied", "unchanged"})


@dataclass(frozen=True, slots=True)
class ActionRecord:
    at: str
    actor: str
    plan_hash: str
    entry_id: str
    policy_id: str
    fingerprint: str
    source: str
    action: str
    target_kind: str
    target_id: str
    target_name: str
    result: str
    detail: str
    before: Mapping[str, Any]
    after: Mapping[str, Any]

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


def record(store: HistoryStore, row: ActionRecord) -> None:
    """Write one step (its own transaction: it survives an interruption of the run)."""
    values = row.to_dict()
    values["before"] = json.dumps(row.before, sort_keys=True)
    values["after"] = json.dumps(row.after, sort_keys=True)
    store.add_action(values)


def done_steps(store: HistoryStore, plan_hash: str) -> set[tuple[str, str, str]]:
    """``(entry_id, target_kind, target_id)`` of the steps of this plan already done."""
    return {(r[3], r[8], r[9]) for r in store.action_rows(plan_hash=plan_hash) if r[11] in DONE}


def actions(store: HistoryStore, *, limit: int | None = None) -> list[ActionRecord]:
    """The recorded steps, newest first."""
    out = []
    for r in store.action_rows(limit=limit):
        values = list(r)
        values[-2:] = [json.loads(values[-2] or "{}"), json.loads(values[-1] or "{}")]
        out.append(ActionRecord(*values))
    return out
