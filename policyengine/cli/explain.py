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
    dump = lambda v: yaml.safe_dump(v, default_flow_style=None, sort_keys=False).rstrip()  # noqa: E731
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
    from policyengine.engine.correlate import correlate
    from policyengine.engine.index import ResourceIndex
    from policyengine.errors import UsageError
    from policyengine.policy.compiled import compile_policy
    from policyengine.snapshot.reader import open_snapshot

    if not args.snapshot:
        raise UsageError("--resource needs --snapshot FILE")
    readers = [open_snapshot(p) for p in args.snapshot]
    records = [r for reader in readers for r in reader.records()]
    records.extend(correlate([r for r in records if r["kind"] == "account"]))
    index = ResourceIndex(records)
    exact = [r for r in records if r["id"] == args.resource and r["kind"] == definition.resource]
    source, _, rid = args.resource.rpartition("/")
    found = exact or [
        r
        for r in records
        if r["id"] == rid
        and r["kind"] == definition.resource
        and (not source or r["source"] == source)
    ]
    if not found:
        raise UsageError(f"no {definition.resource} with id {args.resource} in the snapshots")
    now = parse_now(args.now) or parse_now(max(r.source.collected_at for r in readers))
    params, severity, _ = policy_set.effective(definition)
    compiled = compile_policy(definition, now=now, params=params, severity=severity)
    from policyengine.report._terminal import safe

    for resource in found:
        print(
            safe(
                f"\n{resource['kind']} {resource.get('name') or resource['id']} [{resource['source']}/{resource['id']}]"
            )
        )
        if compiled.match is not None:
            matched = compiled.match.eval(resource, index)
            print(f"  match: {'yes' if matched else 'no (policy does not apply)'}")
            if matched is not True:
                for e in compiled.match.evidence(resource, index, True):
                    print(safe(f"    {e.path} is {e.actual!r}, needed {e.expected}"))
                continue
        verdict = compiled.require.eval(resource, index)
        if verdict is True:
            print("  require: holds -> PASS")
        else:
            missing_pass = definition.on_missing == "pass" and verdict is None
            print(
                f"  require: {'missing data' if verdict is None else 'fails'} -> "
                f"{'PASS (on_missing: pass)' if missing_pass else 'FINDING'}"
            )
            for e in compiled.require.evidence(resource, index, True):
                print(safe(f"    {e.path} is {e.actual!r}, expected {e.expected}"))
    return 0
