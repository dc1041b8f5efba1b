"""The actions table (migration 3) on both backends: record, done steps, listing."""

from __future__ import annotations

from policyengine.history import HistoryStore
from policyengine.remediate.record import ActionRecord, actions, done_steps, record


def _row(result: str, target: str, plan: str = "a" * 64) -> ActionRecord:
    return ActionRecord(
        at="2026-12-03T17:00:00Z", actor="alice@soc.example", plan_hash=plan, entry_id="e1",
        policy_id="PE-INT-009", fingerprint="f" * 32, source="salesforce-prod",
        action="freeze_user", target_kind="account", target_id=target, target_name=target,
        result=result, detail="", before={"frozen": False}, after={"frozen": True},
    )  # fmt: skip


def test_steps_are_recorded_and_the_done_ones_are_known(history_target) -> None:
    with HistoryStore.open(history_target) as store:
        record(store, _row("applied", "005A"))
        record(store, _row("failed", "005B"))
        record(store, _row("unchanged", "005C"))
        record(store, _row("applied", "005D", plan="b" * 64))
        assert done_steps(store, "a" * 64) == {("e1", "account", "005A"), ("e1", "account", "005C")}
        rows = actions(store)
    assert [r.target_id for r in rows] == ["005D", "005C", "005B", "005A"]  # newest first
    assert rows[-1].before == {"frozen": False} and rows[-1].after == {"frozen": True}
    with HistoryStore.open(history_target) as store:  # survives a reopen
        assert len(actions(store, limit=2)) == 2
