"""Apply an approved plan: re-read each target live, skip drift, act, record every step.

Safety, in the order it is checked:

1. the plan's sha256 must be the approved one (else nothing happens, exit 2);
2. every source of the plan must be configured with a ``remediation:`` mapping
   (write credentials; the collection credentials are never used);
3. at most ``max_actions`` steps are still to do, else nothing happens (exit 2);
4. per target: a step this plan already did (history) is not repeated; a
   break-glass account or one of the source's own identities (configured, the
   write session's, or the collecting identity the plan carries) is refused; the
   live facts must still satisfy the preconditions (else: skipped, drift);
5. a failed write (after the HTTP client's retries of 429/5xx) stops the run,
   unless ``keep_going``; the steps not reached are reported as not run.

Without an approval hash it is a dry run: the steps are listed, nothing is
contacted or recorded.
"""

from __future__ import annotations

import datetime as dt
import getpass
import os
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from policyengine.errors import AuthenticationError, ConnectorError, UsageError
from policyengine.log import get_logger
from policyengine.remediate.contract import Action, RemediationSession, Target
from policyengine.remediate.plan import PLAN_VERSION, exclusion

log = get_logger("policyengine.remediate")

#: exit codes of ``remediate apply`` (docs/remediate.md)
EXIT_OK = 0  # every step applied, already done, or a dry run
EXIT_DRIFT = 4  # some steps skipped because the target changed (none failed)
EXIT_FAILED = 5  # some steps failed (or were not run after a failure)


@dataclass(frozen=True, slots=True)
class Step:
    """One (entry, target) of the plan."""

    entry: Mapping[str, Any]
    target: Mapping[str, Any]

    @property
    def key(self) -> tuple[str, str, str]:
        return (str(self.entry["id"]), str(self.target["kind"]), str(self.target["id"]))

    def as_target(self) -> Target:
        t = self.target
        return Target(
            t["kind"], t["id"], t["name"], dict(t.get("preconditions") or {}), t.get("account")
        )


@dataclass(slots=True)
class StepResult:
    step: Step
    result: str  # applied, unchanged, done-before, drift, refused, failed, not-run, dry-run
    detail: str = ""
    before: Mapping[str, Any] = field(default_factory=dict)
    after: Mapping[str, Any] = field(default_factory=dict)


def steps_of(plan: Mapping[str, Any]) -> list[Step]:
    if not isinstance(plan, Mapping) or plan.get("plan_version") != PLAN_VERSION:
        raise UsageError(f"not a remediation plan (plan_version {PLAN_VERSION} expected)")
    return [Step(e, t) for e in plan.get("entries") or () for t in e.get("targets") or ()]


def exit_code(results: Sequence[StepResult]) -> int:
    kinds = {r.result for r in results}
    if kinds & {"failed", "not-run"}:
        return EXIT_FAILED
    if kinds & {"drift", "refused"}:
        return EXIT_DRIFT
    return EXIT_OK


def actor() -> str:
    """Who runs apply: ``$POLICYENGINE_ACTOR`` (a CI job names the approver), else the login."""
    named = os.environ.get("POLICYENGINE_ACTOR")
    if named:
        return named
    try:
        return getpass.getuser()
    except (KeyError, OSError):
        return "unknown"


def now() -> str:
    return dt.datetime.now(dt.UTC).replace(microsecond=0).strftime("%Y-%m-%dT%H:%M:%SZ")


class Applier:
    """Runs the steps of one approved plan (see the module docstring)."""

    def __init__(
        self,
        plan: Mapping[str, Any],
        *,
        plan_hash: str,
        instances: Mapping[str, Any],
        find_action: Callable[[str, str], Action],
        open_session: Callable[[Any], RemediationSession],
        protected: Mapping[str, frozenset[str]],
        done: set[tuple[str, str, str]],
        record: Callable[[StepResult], None],
        keep_going: bool = False,
    ) -> None:
        self.steps = steps_of(plan)
        self.plan_hash = plan_hash
        self.instances = instances
        self.find_action = find_action
        self.open_session = open_session
        self.protected = protected
        self.done = done
        self.record = record
        self.keep_going = keep_going
        self.sessions: dict[str, RemediationSession] = {}
        #: who each source's snapshot was collected as (the plan records it)
        self.collected_as = {
            str(source): frozenset(str(i) for i in ids)
            for source, ids in (plan.get("collected_as") or {}).items()
        }

    def to_do(self) -> list[Step]:
        return [s for s in self.steps if s.key not in self.done]

    def check_sources(self, check_credentials: Callable[[Any], object] | None = None) -> None:
        """Every source of the plan is configured, as the same connector type, and (with
        ``check_credentials``) has usable write-credential options: refused before acting."""
        for step in self.steps:
            source, connector = step.entry["source"], step.entry["connector"]
            instance = self.instances.get(source)
            if instance is None:
                raise UsageError(f"the plan acts on source {source!r}, which the config lacks")
            if instance.type != connector:
                raise UsageError(
                    f"source {source!r} is a {instance.type} in the config, {connector} in the plan"
                )
            if check_credentials is not None:
                check_credentials(instance)

    def _session(self, source: str) -> RemediationSession:
        if source not in self.sessions:
            self.sessions[source] = self.open_session(self.instances[source])
        return self.sessions[source]

    def run(self) -> list[StepResult]:
        results: list[StepResult] = []
        # the same (action, target) in two entries is done once per run
        done_now: dict[tuple[str, str, str, str], str] = {}
        stopped = False
        try:
            for step in self.steps:
                if step.key in self.done:
                    results.append(StepResult(step, "done-before", "done by an earlier apply"))
                    continue
                if stopped:
                    results.append(StepResult(step, "not-run", "stopped after a failure"))
                    continue
                same = (step.entry["source"], step.entry["action"], *step.key[1:])
                if same in done_now:
                    result = StepResult(step, "unchanged", f"done above by entry {done_now[same]}")
                else:
                    result = self._one(step)
                    if result.result in ("applied", "unchanged"):
                        done_now[same] = str(step.entry["id"])
                self.record(result)
                results.append(result)
                if result.result == "failed" and not self.keep_going:
                    stopped = True
        finally:
            for session in self.sessions.values():
                session.close()
        return results

    def _one(self, step: Step) -> StepResult:
        entry, target = step.entry, step.as_target()
        source = str(entry["source"])
        try:
            session = self._session(source)
            protected = (
                self.protected.get(source, frozenset())
                | self.collected_as.get(source, frozenset())
                | session.protected_identities()
            )
            why = exclusion(target, step.target.get("account_names") or (), protected)
            if why is None and target.account and target.account in protected:
                why = "the source's own identity"
            if why:
                return StepResult(step, "refused", why)
            action = self.find_action(str(entry["connector"]), str(entry["action"]))
            params = dict(entry.get("params") or {})
            facts = action.read_target(session, target, params)
            if not action.preconditions_hold(facts, target):
                detail = "target gone" if facts is None else "target changed since the plan"
                return StepResult(step, "drift", detail, before=dict(facts or {}))
            outcome = action.apply(session, target, params)
        except AuthenticationError as exc:
            return StepResult(step, "failed", f"credentials refused: {exc}")
        except (ConnectorError, UsageError) as exc:
            return StepResult(step, "failed", str(exc))
        result = "applied" if outcome.changed else "unchanged"
        log.info(
            "remediate.step",
            source=source,
            action=entry["action"],
            target=target.id,
            result=result,
        )
        return StepResult(
            step, result, outcome.detail, before=dict(facts or {}), after=dict(outcome.after)
        )
