"""``policyengine collect NAME ... -o FILE``: run one connector, write its snapshot.

Exit 0 when the snapshot is complete, 3 when data is missing (the snapshot is
written with ``complete: false``), 2 when options or credentials are wrong
or the snapshot cannot be written (a full disk, a read-only folder): nothing
is written then, and no temporary file is left behind.
"""

from __future__ import annotations

import argparse
from typing import Any


def add_parser(sub: Any, *, full: bool) -> None:
    parser = sub.add_parser(
        "collect",
        help="collect a snapshot from one source (ldap, salesforce, okta, file, ...)",
        description=__doc__,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    connectors = parser.add_subparsers(dest="connector", metavar="CONNECTOR", required=True)
    if not full:
        return  # importing every connector costs; only `collect` itself needs them
    from policyengine import connector as registry

    for name in sorted(registry.available()):
        try:
            cls = registry.load(name)
        except Exception as exc:  # one broken plug-in must not break the others
            broken = connectors.add_parser(name, help=f"(cannot be loaded: {type(exc).__name__})")
            broken.set_defaults(run=_broken(name, exc))
            continue
        cparser = connectors.add_parser(name, help=cls.summary, description=cls.summary)
        cparser.add_argument("--instance", default=name, help="name of this source in findings")
        cparser.add_argument(
            "-o",
            "--output",
            required=True,
            help="snapshot file: .json or .jsonl, optionally .gz",
        )
        cparser.add_argument("--collected-at", help=argparse.SUPPRESS)
        cparser.add_argument(
            "--strict",
            action="store_true",
            default=None,
            help="a record field outside the model (docs/model.md) is an error, not a warning",
        )
        cls.add_arguments(cparser)
        cparser.set_defaults(run=run)


def _broken(name: str, exc: Exception) -> Any:
    def run(_: argparse.Namespace) -> int:
        from policyengine.errors import UsageError

        raise UsageError(f"connector {name!r} cannot be loaded: {type(exc).__name__}: {exc}")

    return run


def run(args: argparse.Namespace) -> int:
    import sys
    from pathlib import Path

    from policyengine import connector as registry

    common = {
        "command",
        "connector",
        "instance",
        "output",
        "run",
        "log_format",
        "log_level",
        "collected_at",
        "strict",
    }
    options = {k: v for k, v in vars(args).items() if k not in common}
    result = registry.run(
        args.connector,
        options,
        instance=args.instance,
        output=Path(args.output),
        collected_at=args.collected_at,
        strict=args.strict,
    )
    counts = ", ".join(f"{v} {k}" for k, v in sorted(result.counts.items())) or "no resources"
    status = "complete" if result.complete else "INCOMPLETE"
    print(f"{result.path}: {counts} ({status}, {result.seconds:.1f}s)", file=sys.stderr)
    for error in result.errors:
        print(f"  missing data: {error}", file=sys.stderr)
    return 0 if result.complete else 3
