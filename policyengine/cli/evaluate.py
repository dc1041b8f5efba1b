"""``policyengine evaluate``: evaluate policies against one or more snapshots."""

from __future__ import annotations

import argparse
from pathlib import Path
from typing import Any

from policyengine.cli._common import add_output_options, add_policy_options
from policyengine.report import FORMATS


def add_parser(sub: Any, *, full: bool) -> None:
    parser = sub.add_parser(
        "evaluate",
        help="evaluate policies against snapshots",
        description="Evaluate policies against one or more snapshots and report findings.",
    )
    parser.add_argument(
        "--snapshot",
        "-s",
        action="append",
        type=Path,
        default=[],
        metavar="FILE",
        help="snapshot file (.json, .jsonl, optionally .gz); repeatable",
    )
    parser.add_argument(
        "--demo", action="store_true", help="use the bundled demo snapshots of a fictional retailer"
    )
    add_policy_options(parser)
    add_output_options(parser, list(FORMATS))
    parser.set_defaults(run=run)


def run(args: argparse.Namespace) -> int:
    from policyengine.api import evaluate_snapshots, load_policy_set
    from policyengine.cli._common import apply_waivers, color_enabled, exit_code, write_report
    from policyengine.config import load_config
    from policyengine.errors import UsageError
    from policyengine.report import ReportOptions

    config = load_config(args.config)
    snapshots = list(args.snapshot)
    if args.demo:
        from policyengine.demo import demo_snapshot_paths

        snapshots.extend(demo_snapshot_paths())
    if not snapshots:
        raise UsageError("give at least one --snapshot FILE (or --demo)")
    policy_set = load_policy_set(args.policies, config=config, profile=args.profile)
    result = evaluate_snapshots(snapshots, policy_set, now=args.now)
    result = apply_waivers(result, args.waivers or config.waivers_path, config.waiver_max_days)
    fail_on = args.fail_on or config.fail_on
    options = ReportOptions(color=color_enabled(args.output), fail_on=fail_on)
    write_report(args.format, result, options, args.output)
    return exit_code(result, fail_on)
