"""``policyengine check-access [PATH ...]``: check access-as-code files against the policies.

Made for pre-commit and editors: the files are read with the ``file``
connector into a temporary snapshot, evaluated with the built-in policies
(or ``--policies``) and the waivers of ``policyengine.yaml``, and every
active finding is printed as ``file:line: POLICY-ID message [severity]``,
sorted by file and line. Exit 1 when one is at or above ``--fail-on``
(default high), 2 when a file does not validate (its errors are printed as
``file:line:col: CODE field '...': message``).

With no PATH, the ``type: file`` connector instance of policyengine.yaml is
used (its ``path`` and instance name), else ``./access`` when it exists.
"""

from __future__ import annotations

import argparse
from pathlib import Path
from typing import Any

DEFAULT_DIR = "access"


def add_parser(sub: Any, *, full: bool) -> None:
    from policyengine.cli._common import SEVERITY_CHOICES, add_policy_options

    parser = sub.add_parser(
        "check-access",
        help="check access-as-code files against the policies (pre-commit)",
        description=__doc__,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument(
        "paths",
        nargs="*",
        type=Path,
        metavar="PATH",
        help="access-as-code files or directories (default: from policyengine.yaml, or ./access)",
    )
    parser.add_argument("--instance", help="source name in findings and waivers (default: file)")
    parser.add_argument(
        "--repo-root",
        type=Path,
        metavar="DIR",
        help="locations are relative to this directory (default: the enclosing git repository)",
    )
    parser.add_argument(
        "--privileged-role",
        action="append",
        default=[],
        metavar="ROLE",
        help="a role that makes its holders privileged (replaces the files' privileged_roles)",
    )
    add_policy_options(parser)
    parser.add_argument(
        "--fail-on",
        choices=SEVERITY_CHOICES,
        help="exit 1 when an active finding is at or above this severity (default: high)",
    )
    parser.add_argument("--now", help="evaluation clock, ISO 8601 (default: now)")
    parser.add_argument(
        "--waivers", type=Path, help="waivers file (default: from policyengine.yaml)"
    )
    parser.set_defaults(run=run)


def run(args: argparse.Namespace) -> int:
    import sys
    import tempfile

    from connectors.file import FileConnector
    from policyengine.api import evaluate_snapshots, load_policy_set
    from policyengine.cli._common import apply_waivers, exit_code
    from policyengine.config import load_config
    from policyengine.snapshot.writer import SnapshotWriter

    config = load_config(args.config)
    options, instance = _connector_options(args, config)
    connector = FileConnector.from_options(options, instance=instance)
    policy_set = load_policy_set(args.policies, config=config, profile=args.profile)
    with tempfile.TemporaryDirectory(prefix="policyengine-check-") as tmp:
        snapshot = Path(tmp) / "access.json"
        with SnapshotWriter(snapshot, connector="file", instance=instance) as writer:
            connector.collect(writer)
        result = evaluate_snapshots([snapshot], policy_set, now=args.now)
    result = apply_waivers(result, args.waivers or config.waivers_path, config.waiver_max_days)
    fail_on = args.fail_on or config.fail_on or "high"
    active = sorted(
        result.active(),
        key=lambda f: (f.resource.file or "", f.resource.line or 0, f.policy_id),
    )
    for f in active:
        where = f"{f.resource.file}:{f.resource.line}" if f.resource.file else instance
        print(f"{where}: {f.policy_id} {f.message or f.title} [{f.severity}]")
    for warning in result.warnings:
        print(f"warning: {warning}", file=sys.stderr)
    failing = len(result.failing(fail_on))
    waived = sum(1 for f in result.findings if f.waived)
    print(
        f"{len(active)} finding(s), {failing} at or above {fail_on}"
        + (f", {waived} waived" if waived else ""),
        file=sys.stderr,
    )
    return exit_code(result, fail_on)


def _connector_options(args: argparse.Namespace, config: Any) -> tuple[dict[str, Any], str]:
    """The file connector's options: the command line over policyengine.yaml's instance."""
    from policyengine.errors import UsageError

    instances = [c for c in config.connectors if c.type == "file"]
    options: dict[str, Any] = dict(instances[0].options) if len(instances) == 1 else {}
    instance = args.instance or (instances[0].instance if len(instances) == 1 else "file")
    if args.paths:
        options["path"] = [str(p) for p in args.paths]
    elif "path" not in options:
        if not Path(DEFAULT_DIR).is_dir():
            raise UsageError(
                "give the access-as-code files or directories to check "
                "(or a `type: file` connector in policyengine.yaml, or an ./access directory)"
            )
        options["path"] = [DEFAULT_DIR]
    if args.repo_root is not None:
        options["repo_root"] = str(args.repo_root)
    if args.privileged_role:
        options["privileged_role"] = list(args.privileged_role)
        options.pop("privileged_roles", None)
    return options, instance
