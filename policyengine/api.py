"""The library's front door: load policies, evaluate snapshots.

>>> from policyengine.api import load_policy_set, evaluate_snapshots  # doctest: +SKIP
>>> policies = load_policy_set()                                      # built-in library
>>> result = evaluate_snapshots([Path("corp-ad.jsonl")], policies)
>>> [f.policy_id for f in result.findings][:3]
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Mapping, Sequence
from pathlib import Path
from typing import Any

from policyengine.config import Config
from policyengine.errors import UsageError
from policyengine.findings.model import Result, SourceStatus
from policyengine.policy.duration import format_timestamp, parse_timestamp
from policyengine.policy.loader import PolicyErrors, builtin_policy_dir, load_definitions
from policyengine.policy.policyset import PolicySet, check_overrides, load_profile


def load_policy_set(
    paths: Sequence[Path] | None = None,
    *,
    config: Config | None = None,
    profile: str | None = None,
) -> PolicySet:
    """Load, validate and configure policies (built-in library when ``paths`` is empty)."""
    config = config or Config()
    chosen = list(paths or config.policy_paths or [builtin_policy_dir()])
    definitions, errors = load_definitions(chosen)
    if errors:
        raise PolicyErrors(errors)
    policy_set = PolicySet(definitions)
    profile_name = profile or config.profile
    if profile_name and profile_name != "default":
        load_profile(profile_name, policy_set)
    elif profile_name == "default":
        policy_set.profile = "default"
    if config.policy_overrides:
        policy_set.add_overrides(
            config.policy_overrides,
            file=str(config.path or "policyengine.yaml"),
            positions=config.positions,
            prefix=("policies",),
        )
    check_overrides(policy_set)
    return policy_set


def parse_now(text: str | None, what: str = "--now") -> dt.datetime | None:
    """Parse an evaluation clock; ``what`` names it in the error (``--now``, ``now:``)."""
    if not text:
        return None
    try:
        return parse_timestamp(text)
    except ValueError:
        raise UsageError(f"{what}: not an ISO 8601 time: {text!r}") from None


def evaluate_snapshots(
    paths: Sequence[Path], policy_set: PolicySet, *, now: str | None = None
) -> Result:
    """Load and correlate the snapshots at ``paths`` and evaluate ``policy_set``.

    The clock is ``now`` when given, else the newest ``collected_at``.
    """
    from policyengine.snapshot.reader import open_snapshot

    if not paths:
        raise UsageError("no snapshot given (use --snapshot FILE, or --demo)")
    readers = [open_snapshot(p) for p in paths]
    seen: dict[str, str] = {}
    for reader in readers:
        instance = reader.source.instance
        if instance in seen:
            raise UsageError(
                f"two snapshots have the instance name {instance!r}: {seen[instance]} and {reader.file}"
            )
        seen[instance] = reader.file
    sources = [
        SourceStatus(
            connector=r.source.connector,
            instance=r.source.instance,
            collected_at=r.source.collected_at,
            complete=r.source.complete,
            errors=r.source.errors,
            file=r.file,
            counts=r.source.counts,
        )
        for r in readers
    ]
    moment = parse_now(now or max(r.source.collected_at for r in readers))
    assert moment is not None
    return _evaluate_readers(readers, policy_set, moment, sources)


def _evaluate_readers(
    readers: Sequence[Any],
    policy_set: PolicySet,
    moment: dt.datetime,
    sources: Sequence[SourceStatus],
) -> Result:
    import time

    from policyengine.engine.stream import evaluate_files
    from policyengine.log import get_logger

    started = time.perf_counter()
    bound = policy_set.bind(moment)
    findings, counts = evaluate_files(readers, bound)
    result = _result(findings, bound, policy_set, moment, sources)
    get_logger("policyengine.engine").info(
        "evaluate.done",
        records=sum(counts.values()),
        findings=len(result.findings),
        policies=len(bound.policies),
        seconds=round(time.perf_counter() - started, 3),
    )
    return result


def evaluate_resources(
    resources: Iterable[Mapping[str, Any]],
    policy_set: PolicySet,
    *,
    now: str,
    sources: Sequence[SourceStatus] = (),
    not_provided: Mapping[str, Mapping[str, Mapping[str, str]]] | None = None,
) -> Result:
    """Evaluate in-memory resources (each with kind, id, source).

    ``not_provided``: per source instance, the fields it declares it cannot provide,
    as a snapshot header's ``source.not_provided`` (policyengine.model.provided).
    """
    from policyengine.engine.correlate import correlate
    from policyengine.engine.evaluate import evaluate
    from policyengine.engine.index import ResourceIndex

    moment = parse_now(now)
    assert moment is not None
    records = [r if isinstance(r, dict) else dict(r) for r in resources]
    accounts = [r for r in records if r.get("kind") == "account"]
    persons = correlate(accounts)
    records.extend(persons)
    index = ResourceIndex(records)
    bound = policy_set.bind(moment)
    if not_provided:
        from policyengine.model.provided import NotProvided

        index.not_provided = NotProvided(not_provided)
        bound.use_not_provided(index.not_provided.names())
    return _result(evaluate(bound, records, index), bound, policy_set, moment, sources)


def _result(
    findings: Any,  # a list of findings, or the stream's PackedFindings
    bound: Any,
    policy_set: PolicySet,
    moment: dt.datetime,
    sources: Sequence[SourceStatus],
) -> Result:
    """Sort, attach per-policy evaluation counts, and fold superseded findings.

    The fold is undone and redone by whatever changes a finding's disposition later
    (waivers, diff), so a waiver or an override on one policy never hides another's.
    """
    from dataclasses import replace

    from policyengine.engine.packed import PackedFindings
    from policyengine.findings.fold import fold_result
    from policyengine.findings.model import sort_findings

    # the stream's findings come sorted and folded, packed until a report reads them;
    # a few are a plain tuple, as for in-memory data
    streamed = isinstance(findings, PackedFindings)
    if streamed and len(findings) <= PackedFindings.KEEP_PACKED_ABOVE:
        findings = findings.materialise()
    if not streamed:
        sort_findings(findings)
    matched = {p.id: bound.matched[i] for i, p in enumerate(bound.policies)}
    supersedes = {p.id: p.definition.supersedes for p in bound.policies}
    infos = [
        replace(info, evaluated=matched.get(info.id, 0), supersedes=supersedes.get(info.id, ()))
        for info in policy_set.infos()
    ]
    result = Result(
        findings=findings if streamed else tuple(findings),
        policies=tuple(infos),
        sources=tuple(sources),
        now=format_timestamp(moment),
        warnings=tuple(policy_set.warnings),
    )
    return result if streamed else fold_result(result, presorted=True)
