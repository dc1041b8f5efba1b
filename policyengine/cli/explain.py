"""``policyengine explain POLICY_ID``: what a policy checks, why, its parameters and fix.

With ``--snapshot FILE --resource ID`` it also shows, condition by condition,
why that resource passes or fails.
"""

from __future__ import annotations

import argparse
import textwrap
from pathlib import Path
from typing import Any

from policyengine.cli._common import add_policy_options


def add_parser(sub: Any, *, full: bool) -> None:
    parser = sub.add_parser(
        "explain", help="explain a policy (and why a resource passes or fails)", description=__doc__
    )
    parser.add_argument("policy_id", metavar="POLICY_ID")
    add_policy_options(parser)
    parser.add_argument("--snapshot", "-s", action="append", type=Path, default=[], metavar="FILE")
    parser.add_argument("--resource", metavar="ID", help="resource id (or source/id) to explain")
    parser.add_argument("--now", help="evaluation clock, ISO 8601")
    parser.set_defaults(run=run)


def _wrap(label: str, text: str) -> list[str]:
    if not text:
        return []
    return [
        f"{label}:",
        *textwrap.wrap(" ".join(text.split()), 92, initial_indent="  ", subsequent_indent="  "),
        "",
    ]


def run(args: argparse.Namespace) -> int:
    import yaml

    from policyengine.api import load_policy_set
    from policyengine.config import load_config
    from policyengine.errors import UsageError

    policy_set = load_policy_set(
        args.policies, config=load_config(args.config), profile=args.profile
    )
    wanted = args.policy_id.upper()
    definition = next((d for d in policy_set.definitions if d.id == wanted), None)
    if definition is None:
        import difflib

        close = difflib.get_close_matches(wanted, [d.id for d in policy_set.definitions], n=3)
        hint = f" (did you mean {', '.join(close)}?)" if close else ""
        raise UsageError(f"no policy {args.policy_id}{hint}")
    params, severity, enabled = policy_set.effective(definition)
    lines = [
        f"{definition.id}  {definition.title}",
        f"severity: {severity}   resource: {definition.resource}"
        f"   enabled: {'yes' if enabled else 'no'}   file: {definition.file}:{definition.line}",
        "",
    ]
    lines += _wrap("What it checks", definition.description)
    lines += _wrap("Why", definition.rationale)

    def dump(value: Any) -> str:
        return yaml.safe_dump(value, default_flow_style=None, sort_keys=False).rstrip()

    if definition.match:
        lines += [
            "Applies to resources matching:",
            textwrap.indent(dump(dict(definition.match)), "  "),
            "",
        ]
    lines += ["Requires:", textwrap.indent(dump(dict(definition.require)), "  ")]
    lines += [
        f"  (a missing field {'passes' if definition.on_missing == 'pass' else 'is a finding'})",
        "",
    ]
    if params:
        lines.append("Parameters (effective value; default):")
        for name, value in params.items():
            lines.append(f"  {name}: {value!r}   (default {definition.params.get(name)!r})")
        lines.append("")
    for key, text in definition.remediation.items():
        lines += _wrap(f"Remediation ({key})", text)
    for name, ids in definition.frameworks.items():
        lines.append(f"{name}: {', '.join(ids)}")
    for ref in definition.references:
        lines.append(f"see: {ref}")
    print("\n".join(lines).rstrip())
    if args.resource:
        return _explain_resource(args, policy_set, definition)
    return 0


def _explain_resource(args: argparse.Namespace, policy_set: Any, definition: Any) -> int:
    from policyengine.api import parse_now
    from policyengine.engine.explain import correlated_records, explain_resource, find_resources
    from policyengine.engine.index import ResourceIndex
    from policyengine.errors import UsageError
    from policyengine.model.provided import from_sources
    from policyengine.policy.compiled import compile_policy
    from policyengine.report._terminal import safe
    from policyengine.snapshot.reader import open_snapshot

    if not args.snapshot:
        raise UsageError("--resource needs --snapshot FILE")
    readers = [open_snapshot(p) for p in args.snapshot]
    records = correlated_records([r for reader in readers for r in reader.records()])
    found = find_resources(records, definition.resource, args.resource)
    if not found:
        raise UsageError(f"no {definition.resource} with id {args.resource} in the snapshots")
    now = parse_now(args.now) or parse_now(max(r.source.collected_at for r in readers))
    assert now is not None  # the reader refuses a snapshot without a valid collected_at
    params, severity, _ = policy_set.effective(definition)
    compiled = compile_policy(definition, now=now, params=params, severity=severity)
    index = ResourceIndex(records)
    index.not_provided = from_sources(r.source for r in readers)
    for resource in found:
        name = resource.get("name") or resource["id"]
        header = f"{resource['kind']} {name} [{resource['source']}/{resource['id']}]"
        print("\n" + safe(header))  # outside safe(), which escapes control characters
        told = explain_resource(compiled, resource, index)
        if compiled.match is not None:
            print(f"  match: {'yes' if told.applies else 'no (policy does not apply)'}")
        if not told.applies:
            for e in told.evidence:
                print(safe(f"    {e.path} is {e.actual!r}, needed {e.expected}"))
            continue
        if told.verdict == "pass":
            print("  require: holds -> PASS")
            continue
        if told.verdict == "not_applicable":
            print("  require: not applicable (the source does not provide the field) -> NO FINDING")
            for e in told.evidence:
                print(safe(f"    {e.path} is {e.actual!r} ({e.expected})"))
            continue
        outcome = "FINDING" if told.finding else "PASS (on_missing: pass)"
        print(f"  require: {'missing data' if told.verdict == 'missing' else 'fails'} -> {outcome}")
        for e in told.evidence:
            print(safe(f"    {e.path} is {e.actual!r}, expected {e.expected}"))
    return 0
