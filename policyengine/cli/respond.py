"""``policyengine respond --source NAME --app APP -o plan.json``: contain a rogue app.

Builds the containment plan for one app of one configured source in one
command: every token of the app revoked, the sessions of the users who
authorised it ended and their accounts frozen (as the source's connector
defines it), and what must still be done by hand (blocking the app where no
API does, reviewing what it exported). The app is found by name (any case)
or id in a fresh collection of the source (``--snapshot`` uses a snapshot
instead). The plan is applied like any other:
``policyengine remediate apply plan.json --config ... --approve SHA256``.
"""

from __future__ import annotations

import argparse
from pathlib import Path
from typing import Any


def add_parser(sub: Any, *, full: bool) -> None:
    parser = sub.add_parser(
        "respond",
        help="one-command containment plan for a rogue app (tokens, sessions, users)",
        description=__doc__,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument("--config", type=Path, help="policyengine.yaml (the sources)")
    parser.add_argument("--source", required=True, metavar="INSTANCE", help="the source instance")
    parser.add_argument("--app", required=True, metavar="NAME_OR_ID", help="the app to contain")
    parser.add_argument(
        "--snapshot", type=Path, help="plan from this snapshot instead of collecting now"
    )
    parser.add_argument("-o", "--output", type=Path, required=True, help="the plan file")
    parser.add_argument("--format", choices=["json", "markdown"], default="json")
    parser.set_defaults(run=run)


def run(args: argparse.Namespace) -> int:
    import tempfile

    from policyengine.cli.remediate import protected_identities, write_plan
    from policyengine.config import load_config
    from policyengine.errors import UsageError
    from policyengine.remediate.respond import containment_plan

    config = load_config(args.config)
    instance = next((c for c in config.connectors if c.instance == args.source), None)
    if instance is None:
        known = ", ".join(c.instance for c in config.connectors) or "none"
        raise UsageError(f"no source {args.source!r} in the config (sources: {known})")
    protected = protected_identities(config).get(instance.instance, frozenset())
    if args.snapshot is not None:
        plan = containment_plan(instance, args.snapshot, args.app, protected)
        return write_plan(plan, args.output, args.format)
    from policyengine import connector

    with tempfile.TemporaryDirectory(prefix="policyengine-respond-") as folder:
        snapshot = Path(folder) / f"{instance.instance}.jsonl"
        result = connector.run(
            instance.type, instance.options, instance=instance.instance, output=snapshot
        )
        if not result.complete:
            raise UsageError(
                f"collecting {instance.instance} was incomplete ({'; '.join(result.errors)[:300]}); "
                "a containment plan needs every token and user: fix the collection, or pass "
                "--snapshot"
            )
        plan = containment_plan(instance, snapshot, args.app, protected)
    return write_plan(plan, args.output, args.format)
