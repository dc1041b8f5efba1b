"""The containment plan of ``policyengine respond``: one rogue app of one source.

The steps come from the connector's optional ``containment(app, lookup)``
(see :mod:`policyengine.remediate.contract`); they become plan entries like
those of ``remediate plan``, one per action, so the same apply, hash and
history apply.
"""

from __future__ import annotations

import re
from collections import defaultdict
from pathlib import Path
from typing import Any

from policyengine.errors import UsageError
from policyengine.remediate.contract import Containment, PlannedStep, Record
from policyengine.remediate.plan import SnapshotIndex, assemble, make_entry


def _norm(text: object) -> str:
    return re.sub(r"\s+", " ", str(text or "")).strip().casefold()


def find_app(lookup: SnapshotIndex, wanted: str, source: str) -> Record:
    apps = list(lookup.all("integration"))
    exact = [a for a in apps if a.get("id") == wanted]
    named = exact or [a for a in apps if _norm(a.get("name")) == _norm(wanted)]
    if not named:
        close = sorted(
            str(a.get("name")) for a in apps if _norm(wanted)[:4] in _norm(a.get("name"))
        )
        hint = f" (similar: {', '.join(close[:5])})" if close else ""
        raise UsageError(f"{source}: no app named {wanted!r}{hint}")
    if len(named) > 1:
        ids = ", ".join(str(a.get("id")) for a in named)
        raise UsageError(f"{source}: {len(named)} apps are named {wanted!r} ({ids}); pass the id")
    return named[0]


def containment_plan(
    instance: Any, snapshot: Path, app_name: str, protected: frozenset[str]
) -> dict[str, Any]:
    """The plan for ``app_name`` of the configured source ``instance``."""
    from policyengine.connector import load
    from policyengine.remediate.registry import find_action

    cls = load(instance.type)
    contain = getattr(cls, "containment", None)
    if contain is None:
        raise UsageError(f"the {instance.type} connector offers no containment for apps")
    lookup = SnapshotIndex.open(snapshot)
    app = find_app(lookup, app_name, instance.instance)
    plan: Containment = contain(app, lookup)
    by_action: dict[tuple[str, str], list[PlannedStep]] = defaultdict(list)
    for step in plan.steps:
        by_action[(step.action, repr(sorted(step.params.items())))].append(step)
    finding = {
        "policy_id": "respond",
        "fingerprint": f"respond:{instance.instance}:{app.get('id')}",
        "severity": "critical",
        "message": f"containment of {app.get('name')}",
        "resource": {"kind": "integration", "id": app.get("id"), "name": app.get("name")},
    }
    entries = [
        make_entry(
            action=find_action(instance.type, action),
            params=dict(steps[0].params),
            targets=[s.target for s in steps],
            lookup=lookup,
            source=instance.instance,
            connector=instance.type,
            finding=finding,
            protected=protected | lookup.collected_as,
            order=order,
        )
        for order, ((action, _), steps) in enumerate(by_action.items())
    ]
    origin = {"kind": "respond", "source": instance.instance, "app": app.get("name")}
    collected_as = {instance.instance: sorted(lookup.collected_as)} if lookup.collected_as else {}
    return assemble(entries, origin=origin, manual=plan.manual, collected_as=collected_as)
