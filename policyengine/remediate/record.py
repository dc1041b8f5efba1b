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


_COLUMNS = (
    "at, actor, plan_hash, entry_id, policy_id, fingerprint, source, action, target_kind, "
    "target_id, target_name, result, detail, before, after"
)


def record(store: HistoryStore, row: ActionRecord) -> None:
    """Write one step (its own transaction: it survives an interruption of the run)."""
    values = [getattr(row, c.strip()) for c in _COLUMNS.split(",")]
    values[-2:] = [json.dumps(row.before, sort_keys=True), json.dumps(row.after, sort_keys=True)]
    marks = ", ".join("?" for _ in values)
    with store._write() as db:  # the store's own transaction helper (SQLite and PostgreSQL)
        db.execute(f"INSERT INTO actions ({_COLUMNS}) VALUES ({marks})", values)


def done_steps(store: HistoryStore, plan_hash: str) -> set[tuple[str, str, str]]:
    """``(entry_id, target_kind, target_id)`` of the steps of this plan already done."""
    rows = store._db.execute(
        "SELECT entry_id, target_kind, target_id, result FROM actions WHERE plan_hash = ?",
        (plan_hash,),
    ).fetchall()
    return {(r[0], r[1], r[2]) for r in rows if r[3] in DONE}


def actions(store: HistoryStore, *, limit: int | None = None) -> list[ActionRecord]:
    """The recorded steps, newest first."""
    sql = f"SELECT {_COLUMNS} FROM actions ORDER BY id DESC"
    rows = store._db.execute(sql + (f" LIMIT {int(limit)}" if limit else "")).fetchall()
    out = []
    for r in rows:
        values = list(r)
        values[-2:] = [json.loads(values[-2] or "{}"), json.loads(values[-1] or "{}")]
        out.append(ActionRecord(*values))
    return out
