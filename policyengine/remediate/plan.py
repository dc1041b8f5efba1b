"""Build a remediation plan: one entry per (finding, action), deterministic bytes.

The plan is built offline, from a result (``evaluate --format json``), the
snapshots it names and the policies' ``actions:``; no source is contacted,
so a CI job without write credentials can plan and post it for review.
Same inputs, same bytes: no clock, no absolute paths, sorted keys and entries.

Each entry holds the source instance and connector, the action and its
parameters, the finding (policy, fingerprint, message), and its targets with
the facts ``apply`` re-checks live (``preconditions``), whether the action can
be undone and how, and a one-line summary. Targets that must never be acted
on (break-glass accounts, the source's own identities) are listed under
``excluded`` with the reason.
"""

from __future__ import annotations

import hashlib
import json
from collections import defaultdict
from collections.abc import Iterable, Mapping, Sequence
from pathlib import Path
from typing import Any

from policyengine.errors import UsageError
from policyengine.remediate.contract import Action, Record, Target

PLAN_VERSION = 1


class SnapshotIndex:
    """The resources of one snapshot by kind and id (a :class:`ResourceLookup`)."""

    def __init__(self, records: Iterable[Record], collected_as: Iterable[str] = ()) -> None:
        self._by_kind: dict[str, dict[str, Record]] = defaultdict(dict)
        for record in records:
            self._by_kind[str(record.get("kind"))][str(record.get("id"))] = record
        #: who the connector collected as (the header's ``source.collected_as``)
        self.collected_as = frozenset(collected_as)

    @classmethod
    def open(cls, path: Path) -> SnapshotIndex:
        from policyengine.snapshot import open_snapshot

        reader = open_snapshot(path)
        return cls(reader.records(), reader.source.collected_as)

    def get(self, kind: str, resource_id: str) -> Record | None:
        return self._by_kind.get(kind, {}).get(resource_id)

    def all(self, kind: str) -> Iterable[Record]:
        return self._by_kind.get(kind, {}).values()


def load_result(path: Path) -> dict[str, Any]:
    try:
        data = json.loads(path.read_bytes())
    except OSError as exc:
        raise UsageError(f"{path}: cannot read the result: {exc.strerror}") from None
    except ValueError as exc:
        raise UsageError(f"{path}: not a JSON result ({exc})") from None
    if not isinstance(data, dict) or not isinstance(data.get("findings"), list):
        raise UsageError(f"{path}: not a result of `evaluate --format json` (no findings list)")
    return data


def _snapshot_path(source: Mapping[str, Any], result_path: Path) -> Path:
    name = str(source.get("file") or "")
    candidate = Path(name)
    if not candidate.is_absolute() and not candidate.exists():
        candidate = result_path.parent / name
    if not name or not candidate.is_file():
        raise UsageError(
            f"{result_path}: the snapshot of source {source.get('instance')!r} "
            f"({name or 'no file'}) is not readable; plan where the result was made"
        )
    return candidate


def entry_id(*parts: str) -> str:
    return hashlib.sha256("\x1f".join(parts).encode("utf-8")).hexdigest()[:16]


def _names_of(lookup: SnapshotIndex, account_id: str | None) -> list[str]:
    account = lookup.get("account", account_id) if account_id else None
    if account is None:
        return [account_id] if account_id else []
    # dn / upn: a directory's bind identity is configured as a DN or user@domain
    names = {str(account.get(k)) for k in ("id", "name", "email", "dn", "upn") if account.get(k)}
    return sorted(names)


def _identity_keys(protected: frozenset[str]) -> set[str]:
    """What the source's identities match, case-insensitively: each as given and, for a
    ``user@domain`` login (an AD bind as the built-in Administrator has no UPN attribute),
    the bare ``user`` too. Matching too much only protects more accounts of this source."""
    keys = set()
    for identity in protected:
        folded = identity.casefold()
        keys.add(folded)
        if "@" in folded and "=" not in folded:
            keys.add(folded.split("@", 1)[0])
    return keys


def exclusion(target: Target, names: Sequence[str], protected: frozenset[str]) -> str | None:
    """Why ``target`` must never be acted on, or None."""
    if target.facts.get("account_type") == "break_glass":
        return "break-glass account"
    keys = _identity_keys(protected)
    hit = sorted(n for n in names if n.casefold() in keys)
    if hit:
        return f"the source's own identity ({hit[0]})"
    return None


def target_entry(target: Target, lookup: SnapshotIndex) -> dict[str, Any]:
    account = lookup.get("account", target.account) if target.account else None
    facts = dict(target.facts)
    if account is not None and "account_type" not in facts and target.account:
        facts["account_type"] = account.get("type")
    return {
        "kind": target.kind,
        "id": target.id,
        "name": target.name,
        "account": target.account,
        "account_names": _names_of(lookup, target.account),
        "preconditions": facts,
    }


def make_entry(
    *,
    action: Action,
    params: Mapping[str, Any],
    targets: Sequence[Target],
    lookup: SnapshotIndex,
    source: str,
    connector: str,
    finding: Mapping[str, Any],
    protected: frozenset[str],
    order: int = 0,
) -> dict[str, Any]:
    """One plan entry (a finding's action and its targets); ``order``: its place among the
    finding's actions (revoke tokens before ending sessions, or the app opens a new one)."""
    included, excluded = [], []
    for target in targets:
        item = target_entry(target, lookup)
        why = exclusion(
            Target(target.kind, target.id, target.name, item["preconditions"], target.account),
            item["account_names"],
            protected,
        )
        if why:
            excluded.append({**item, "reason": why})
        else:
            included.append(item)
    resource = finding.get("resource") or {}
    names = ", ".join(t["name"] for t in included[:5]) + (" ..." if len(included) > 5 else "")
    spec = action.spec
    return {
        "id": entry_id(source, str(finding.get("fingerprint")), spec.name, json.dumps(params)),
        "source": source,
        "connector": connector,
        "action": spec.name,
        "order": order,
        "params": dict(params),
        "finding": {
            "policy_id": finding.get("policy_id"),
            "fingerprint": finding.get("fingerprint"),
            "severity": finding.get("severity"),
            "message": finding.get("message"),
            "resource": {k: resource.get(k) for k in ("kind", "id", "name")},
        },
        "targets": included,
        "excluded": excluded,
        "reversible": spec.reversible,
        "undo": spec.undo,
        "summary": (
            f"{spec.name} on {len(included)} {spec.target_kind}(s) of {source}"
            f"{': ' + names if names else ''} ({finding.get('policy_id')} on "
            f"{resource.get('name') or resource.get('id')})"
        ),
    }


def _findings(result: Mapping[str, Any]) -> Iterable[Mapping[str, Any]]:
    """Active findings, with the ones folded under a superseding finding."""
    for finding in result.get("findings") or ():
        if finding.get("waived"):
            continue
        yield finding
        for folded in finding.get("folded") or ():
            if not folded.get("waived"):
                yield folded


def build_plan(
    result_path: Path,
    definitions: Mapping[str, Any],
    *,
    policy_ids: Sequence[str] = (),
    fingerprints: Sequence[str] = (),
    protected: Mapping[str, frozenset[str]] | None = None,
) -> dict[str, Any]:
    """The plan for the findings of ``result_path`` (see the module docstring).

    ``definitions``: policy id -> PolicyDefinition; ``protected``: source
    instance -> identities never acted on (from ``policyengine.yaml``).
    """
    from policyengine.remediate.registry import find_action, param_problems, with_defaults

    result = load_result(result_path)
    sources = {s.get("instance"): s for s in result.get("sources") or ()}
    unknown = sorted(set(policy_ids) - set(definitions))
    if unknown:
        raise UsageError(f"--policy {', '.join(unknown)}: no such policy loaded")
    indexes: dict[str, SnapshotIndex] = {}
    entries: list[dict[str, Any]] = []
    seen_fingerprints: set[str] = set()
    for finding in _findings(result):
        fingerprint = str(finding.get("fingerprint"))
        if policy_ids and finding.get("policy_id") not in policy_ids:
            continue
        if fingerprints and fingerprint not in fingerprints:
            continue
        definition = definitions.get(str(finding.get("policy_id")))
        resource = finding.get("resource") or {}
        source = sources.get(resource.get("source"))
        if definition is None or source is None or not definition.actions:
            continue
        connector = str(source.get("connector"))
        refs = definition.actions.get(connector) or ()
        if not refs:
            continue
        seen_fingerprints.add(fingerprint)
        instance = str(source.get("instance"))
        if instance not in indexes:
            indexes[instance] = SnapshotIndex.open(_snapshot_path(source, result_path))
        lookup = indexes[instance]
        record = lookup.get(str(resource.get("kind")), str(resource.get("id")))
        if record is None:
            continue  # a cross-source finding's resource is not in one snapshot
        for order, (name, raw_params) in enumerate(refs):
            action = find_action(connector, name)
            problems = param_problems(action, raw_params)
            if problems:
                raise UsageError(f"{definition.file}: actions.{connector}.{name}: {problems[0]}")
            params = with_defaults(action, raw_params)
            entries.append(
                make_entry(
                    action=action,
                    params=params,
                    targets=action.targets(record, lookup, params),
                    lookup=lookup,
                    source=instance,
                    connector=connector,
                    finding=finding,
                    # the collecting identity (snapshot header) is never acted on either
                    protected=(protected or {}).get(instance, frozenset()) | lookup.collected_as,
                    order=order,
                )
            )
    missing = sorted(set(fingerprints) - seen_fingerprints)
    if missing:
        raise UsageError(
            f"--fingerprint {', '.join(missing)}: no active finding with actions has it"
        )
    collected_as = {i: sorted(x.collected_as) for i, x in indexes.items() if x.collected_as}
    return assemble(
        entries,
        origin={"kind": "findings", "result": result_path.name},
        manual=(),
        collected_as=collected_as,
    )


def assemble(
    entries: list[dict[str, Any]],
    *,
    origin: Mapping[str, Any],
    manual: Sequence[str],
    collected_as: Mapping[str, Sequence[str]] | None = None,
) -> dict[str, Any]:
    """The plan document: entries in a stable order, duplicates (same id) once.

    ``collected_as``: source instance -> the identities its snapshot was collected as;
    written into the plan (covered by its hash) so apply refuses them too.
    """
    unique = {e["id"]: e for e in entries}
    ordered = sorted(
        unique.values(),
        key=lambda e: (
            e["source"],
            e["finding"]["policy_id"] or "",
            e["finding"]["resource"]["id"] or "",
            e["order"],
            e["action"],
        ),
    )
    extra = {"collected_as": dict(sorted(collected_as.items()))} if collected_as else {}
    return {
        **extra,
        "plan_version": PLAN_VERSION,
        "origin": dict(origin),
        "entries": ordered,
        "manual": list(manual),
        "counts": {
            "entries": len(ordered),
            "targets": sum(len(e["targets"]) for e in ordered),
            "excluded": sum(len(e["excluded"]) for e in ordered),
        },
    }


def dumps(plan: Mapping[str, Any]) -> bytes:
    """The plan file's bytes: the same plan always gives the same bytes."""
    return (json.dumps(plan, indent=2, sort_keys=True, ensure_ascii=False) + "\n").encode("utf-8")


def markdown(plan: Mapping[str, Any], digest: str, name: str = "plan.json") -> str:
    """A pull-request comment: what will be done, to whom, how to undo, how to approve."""
    from policyengine.report._markdown_escape import markdown_text as escape

    lines = [
        "## Remediation plan",
        "",
        f"{plan['counts']['entries']} actions on {plan['counts']['targets']} targets"
        f" ({plan['counts']['excluded']} excluded). Approve with:",
        "",
        f"    policyengine remediate apply {name} --config policyengine.yaml --approve {digest}",
        "",
        "| # | source | action | finding | targets | undo |",
        "|---|---|---|---|---|---|",
    ]
    for number, e in enumerate(plan["entries"], start=1):
        targets = ", ".join(escape(str(t["name"])) for t in e["targets"]) or "none"
        finding = e["finding"]
        lines.append(
            f"| {number} | {escape(e['source'])} | `{e['action']}` | "
            f"{escape(str(finding['policy_id']))}: {escape(str(finding['message'] or ''))} | "
            f"{targets} | {escape(e['undo'] or 'n/a')} |"
        )
    excluded = [(e, t) for e in plan["entries"] for t in e["excluded"]]
    if excluded:
        lines += ["", "**Never acted on:**", ""]
        lines += [f"- {escape(str(t['name']))}: {escape(t['reason'])}" for _, t in excluded]
    if plan.get("manual"):
        lines += ["", "**By hand:**", ""]
        lines += [f"- {escape(step)}" for step in plan["manual"]]
    return "\n".join(lines) + "\n"
