"""``policyengine history``: past scans, trends and mean time to remediate.

Lists the runs recorded by ``policyengine scan`` (open, new, resolved and
still-open counts per run, and which runs were incomplete), the trend of open
findings, and the mean time to remediate per severity. ``--policy`` narrows
every figure to one policy; ``--since`` to runs from a date on.

``policyengine history migrate --to postgresql://user@host:port/db?schema=NAME``
copies the SQLite history (``history:`` in the config, or ``--history``) into
an empty PostgreSQL schema; the password comes from ``--password-env`` /
``--password-file``, or libpq's PGPASSWORD / PGPASSFILE.
"""

from __future__ import annotations

import argparse
from pathlib import Path
from typing import Any


def add_parser(sub: Any, *, full: bool) -> None:
    parser = sub.add_parser(
        "history",
        help="past scans: runs, trends, mean time to remediate",
        description=__doc__,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    from policyengine.cli.scan import history_arg

    parser.add_argument(
        "action", nargs="?", choices=["migrate"], help="migrate: copy the history to --to"
    )
    parser.add_argument(
        "--history",
        type=history_arg,
        metavar="PATH|URL",
        help="history: a SQLite file or postgresql:// URL (default: as scan)",
    )
    parser.add_argument(
        "--to", type=history_arg, metavar="URL", help="migrate: the PostgreSQL history to fill"
    )
    secret = parser.add_mutually_exclusive_group()
    secret.add_argument("--password-env", metavar="NAME", help="migrate: --to's password variable")
    secret.add_argument("--password-file", type=Path, metavar="FILE", help="migrate: its file")
    parser.add_argument(
        "--lock-timeout",
        type=float,
        default=0.0,
        metavar="SECONDS",
        help="migrate: wait this long for a running scan on either side",
    )
    parser.add_argument(
        "--config", type=Path, help="policyengine.yaml (default: ./policyengine.yaml if present)"
    )
    parser.add_argument("--demo", action="store_true", help="the history of `scan --demo`")
    parser.add_argument("--policy", metavar="ID", help="only this policy's findings")
    parser.add_argument("--since", metavar="DATE", help="only runs from DATE (2026-11-01) on")
    parser.add_argument("--limit", type=_positive, metavar="N", help="only the last N runs")
    parser.add_argument(
        "--findings",
        choices=["open", "resolved", "all"],
        help="also list findings with first seen / last seen / resolved at",
    )
    parser.add_argument(
        "--actions", action="store_true", help="list the steps `remediate apply` recorded"
    )
    parser.add_argument("--format", choices=["text", "json"], default="text")
    parser.set_defaults(run=run)


def run(args: argparse.Namespace) -> int:
    import sys

    import orjson

    from policyengine.cli.scan import DEFAULT_HISTORY, DEMO_HISTORY
    from policyengine.errors import UsageError
    from policyengine.history import HistoryStore

    if args.demo:
        path = args.history or DEMO_HISTORY
    else:
        path = args.history
        if path is None:
            from policyengine.config import load_config

            path = load_config(args.config).history_path or DEFAULT_HISTORY
    if args.action == "migrate":
        return _migrate(args, path)
    if isinstance(path, Path) and not path.is_file():
        raise UsageError(f"{path}: no scan history yet (run `policyengine scan` first)")
    if args.actions:
        from policyengine.cli.remediate import print_actions

        return print_actions(path, args.format, args.limit)
    with HistoryStore.open(path) as store:
        runs = store.runs(since=args.since, policy=args.policy, limit=args.limit)
        mttr = store.remediation_times(policy=args.policy, since=args.since)
        findings = []
        if args.findings:
            findings = store.findings(policy=args.policy, open_only=args.findings == "open")
            if args.findings == "resolved":
                findings = [f for f in findings if not f.is_open]
    if args.format == "json":
        doc = {
            "history": str(path),
            "policy": args.policy,
            "since": args.since,
            "runs": [r.to_dict() for r in runs],
            "remediation": [m.to_dict() for m in mttr],
        }
        if args.findings:
            doc["findings"] = [f.to_dict() for f in findings]
        sys.stdout.write(orjson.dumps(doc, option=orjson.OPT_INDENT_2).decode() + "\n")
        return 0
    sys.stdout.write(_text(path, args, runs, mttr, findings))
    return 0


def _migrate(args: argparse.Namespace, source: Any) -> int:
    import dataclasses
    import sys

    from policyengine.errors import UsageError
    from policyengine.history import PostgresHistory
    from policyengine.history._migrate import migrate_history

    if not isinstance(args.to, PostgresHistory):
        raise UsageError("history migrate: --to postgresql://user@host:port/db?schema=NAME")
    if not isinstance(source, Path):
        raise UsageError(f"history migrate: the source must be a SQLite file, not {source}")
    target = dataclasses.replace(
        args.to, password_env=args.password_env, password_file=args.password_file
    )
    report = migrate_history(source, target, lock_timeout=args.lock_timeout)
    copied = ", ".join(f"{table} {n}" for table, n in report.rows)
    sys.stdout.write(f"Migrated {source} to {target}: {copied}\n")
    return 0


def _text(
    path: Path, args: argparse.Namespace, runs: list[Any], mttr: list[Any], findings: list[Any]
) -> str:
    scope = f" for {args.policy}" if args.policy else ""
    lines = [f"History{scope}: {path} ({len(runs)} run{'s' if len(runs) != 1 else ''})", ""]
    if not runs:
        lines.append("No runs recorded" + (f" since {args.since}" if args.since else "") + ".")
    else:
        header = (
            f"{'run':>5}  {'started (UTC)':<17} {'open':>5} {'new':>5} {'resolved':>8} "
            f"{'still open':>10} {'not re-checked':>14} {'waived':>6}  data"
        )
        lines.append(header)
        for r in runs:
            data = "complete" if r.complete else "INCOMPLETE: " + ", ".join(r.missing)
            lines.append(
                f"{'#' + str(r.id):>5}  {r.started_at.replace('T', ' ')[:16]:<17} {r.open:>5} "
                f"{r.new:>5} {r.resolved:>8} {r.still_open:>10} {r.carried:>14} {r.waived:>6}  {data}"
            )
        opens = [r.open for r in runs]
        delta = opens[-1] - opens[0]
        shown = " → ".join(str(n) for n in opens[-12:])
        lead = "… → " if len(opens) > 12 else ""
        lines += ["", f"Trend (open findings): {lead}{shown}  ({delta:+d} over {len(runs)} runs)"]
    lines += ["", "Mean time to remediate (resolved findings):"]
    for m in mttr:
        if m.resolved:
            lines.append(
                f"  {m.severity:<9} {m.resolved:>4} resolved   mean {_hours(m.mean_hours):>8}   "
                f"median {_hours(m.median_hours):>8}"
            )
        else:
            lines.append(f"  {m.severity:<9}    — none resolved yet")
    if findings:
        lines += ["", "Findings:"]
        for f in findings:
            state = f"resolved {f.resolved_at}" if f.resolved_at else "open"
            waived = " (waived)" if f.waived else ""
            lines.append(
                f"  {f.severity:<8} {f.policy_id:<12} {f.source}/{f.resource_name}  "
                f"first seen {f.first_seen}  last seen {f.last_seen}  {state}{waived}"
            )
    from policyengine.scan._summary import printable

    return "\n".join(printable(line) for line in lines) + "\n"


def _hours(value: float | None) -> str:
    if value is None:
        return "—"
    if value >= 48:
        return f"{value / 24:.1f} d"
    return f"{value:.1f} h"


def _positive(text: str) -> int:
    value = int(text)
    if value < 1:
        raise argparse.ArgumentTypeError("must be 1 or more")
    return value
