"""``policyengine scan``: the periodic compliance scan.

Runs every connector instance in policyengine.yaml (a few at a time), writes
their snapshots, the result, report.html and summary.md into a dated run
folder, records the run in the history database and prints what is new,
resolved and still open. ``--snapshot FILE`` scans pre-collected snapshots
instead of running connectors; ``--demo`` scans the bundled demo data with a
local history, no setup needed.

Exit codes: 3 when any source is incomplete (its findings stay open);
otherwise 1 when an active finding is at or above --fail-on (or fail_on in
the config); otherwise 0. Without --fail-on a scan does not fail on findings.
2 for usage, config or policy errors, or when another scan holds the history.
143 when stopped by SIGTERM (the run folder is renamed <stamp>.failed).
"""

from __future__ import annotations

import argparse
from pathlib import Path
from typing import Any

from policyengine.cli._common import SEVERITY_CHOICES, add_policy_options
from policyengine.report import FORMATS

DEFAULT_HISTORY = Path(".policyengine/history.db")
DEFAULT_OUTPUT = Path("runs")
DEMO_HISTORY = Path(".policyengine/demo-history.db")
DEMO_OUTPUT = Path(".policyengine/demo-runs")


def add_parser(sub: Any, *, full: bool) -> None:
    parser = sub.add_parser(
        "scan",
        help="scan every configured source; write a dated report; record history",
        description=__doc__,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    add_policy_options(parser)
    parser.add_argument(
        "--output-dir",
        type=Path,
        metavar="DIR",
        help=f"where run folders go (default: output_dir in the config, else {DEFAULT_OUTPUT}/)",
    )
    parser.add_argument(
        "--history",
        type=history_arg,
        metavar="PATH|URL",
        help=f"history: a SQLite file or postgresql://user@host:port/db?schema=NAME "
        f"(password from PGPASSWORD/PGPASSFILE) (default: history in the config, "
        f"else {DEFAULT_HISTORY})",
    )
    parser.add_argument(
        "--snapshot",
        "-s",
        action="append",
        type=Path,
        default=[],
        metavar="FILE",
        help="scan this pre-collected snapshot instead of running connectors; repeatable",
    )
    parser.add_argument(
        "--demo",
        action="store_true",
        help=f"scan the bundled demo snapshots (history in {DEMO_HISTORY})",
    )
    parser.add_argument(
        "--fail-on",
        choices=SEVERITY_CHOICES,
        help="exit 1 when an active finding is at or above this severity (default: none)",
    )
    parser.add_argument("--now", help="evaluation clock, ISO 8601 (default: collected_at)")
    parser.add_argument("--waivers", type=Path, help="waivers file (default: from the config)")
    parser.add_argument(
        "--report",
        action="append",
        metavar="FORMAT",
        choices=list(FORMATS),
        help="extra report formats in the run folder (json and html always); repeatable",
    )
    parser.add_argument(
        "--max-concurrency",
        type=int,
        metavar="N",
        help="connector instances collected at once (default: max_concurrency, else 4)",
    )
    parser.add_argument(
        "--retries",
        type=int,
        default=0,
        metavar="N",
        help="re-run a connector instance whose collection failed, up to N times (default 0)",
    )
    parser.add_argument(
        "--lock-timeout",
        type=float,
        default=0.0,
        metavar="SECONDS",
        help="wait this long for another scan on the same history to finish (default: fail now)",
    )
    parser.set_defaults(run=run)


def run(args: argparse.Namespace) -> int:
    import sys

    from policyengine.api import load_policy_set
    from policyengine.config import load_config
    from policyengine.errors import Location, UsageError
    from policyengine.scan import (
        InstanceSpec,
        Progress,
        ScanPlan,
        run_scan,
        scan_exit_code,
        sigterm_raises,
        text_summary,
    )

    config = load_config(args.config)
    snapshots = list(args.snapshot)
    if args.demo:
        from policyengine.demo import demo_snapshot_paths

        snapshots.extend(Path(p) for p in demo_snapshot_paths())
    instances: tuple[InstanceSpec, ...] = ()
    if not snapshots:
        config_file = str(config.path or "policyengine.yaml")
        instances = tuple(
            InstanceSpec(c.instance, c.type, c.options, Location(config_file, c.line))
            for c in config.connectors
        )
        if not instances:
            where = config.path or "policyengine.yaml"
            raise UsageError(
                f"no connectors configured in {where}: add a connectors: list, "
                "or scan files with --snapshot FILE, or try --demo"
            )
    if args.max_concurrency is not None and args.max_concurrency < 1:
        raise UsageError("--max-concurrency must be at least 1")
    if args.retries < 0:
        raise UsageError("--retries must be 0 or more")
    history = args.history or (
        DEMO_HISTORY if args.demo else config.history_path or DEFAULT_HISTORY
    )
    output_dir = args.output_dir or (
        DEMO_OUTPUT if args.demo else config.output_dir or DEFAULT_OUTPUT
    )
    fail_on = args.fail_on or config.fail_on
    plan = ScanPlan(
        policy_set=load_policy_set(args.policies, config=config, profile=args.profile),
        output_dir=output_dir,
        history_path=history,
        instances=instances,
        snapshots=tuple(snapshots),
        waivers_path=args.waivers or config.waivers_path,
        waiver_max_days=config.waiver_max_days,
        reports=tuple(args.report or config.reports),
        max_workers=args.max_concurrency or config.max_concurrency,
        retries=args.retries,
        now=args.now,
        lock_timeout=args.lock_timeout,
        fail_on=fail_on,
        title="policyengine demo scan" if args.demo else "policyengine compliance report",
    )
    show_progress = sys.stderr.isatty() and args.log_format != "json"
    progress = Progress(len(instances), enabled=show_progress) if instances else None
    with sigterm_raises():  # so a stopped scan still marks its run folder .failed
        outcome = run_scan(plan, progress=progress)
    sys.stdout.write(text_summary(outcome, outcome.reports))
    sys.stdout.flush()
    return scan_exit_code(outcome, fail_on)


def history_arg(text: str) -> Any:
    """``--history``: a file path, or a postgresql:// URL (a Path would fold its ``//``)."""
    if not text.startswith(("postgresql://", "postgres://")):
        return Path(text)
    from policyengine.history import parse_history

    return parse_history(text, what="--history")
