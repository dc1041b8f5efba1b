"""``policyengine lint [PATH ...]``: exact ``file:line:col: CODE message`` for policies,
their tests, profiles, ``policyengine.yaml`` and waivers. Exit 0 clean, 1 errors."""

from __future__ import annotations

import argparse
from pathlib import Path
from typing import Any


def add_parser(sub: Any, *, full: bool) -> None:
    parser = sub.add_parser(
        "lint", help="check policy, config and waiver files", description=__doc__
    )
    parser.add_argument(
        "paths",
        nargs="*",
        type=Path,
        metavar="PATH",
        help="files or folders (default: policies/, policyengine.yaml, waivers.yaml if present)",
    )
    parser.add_argument("--no-warnings", action="store_true", help="show errors only")
    parser.add_argument("--strict", action="store_true", help="warnings also make lint exit 1")
    parser.add_argument(
        "--no-cache",
        action="store_true",
        help="re-read every file (by default unchanged policy files are taken from the cache)",
    )
    parser.add_argument(
        "--against",
        type=Path,
        metavar="RESULT",
        help="a saved `evaluate --format json` result: report waivers that match none of its findings (W304)",
    )
    parser.set_defaults(run=run)


def run(args: argparse.Namespace) -> int:
    import sys

    from policyengine.lint import lint_paths

    paths = list(args.paths)
    if not paths:
        paths = [
            p
            for p in (Path("policies"), Path("policyengine.yaml"), Path("waivers.yaml"))
            if p.exists()
        ]
        if not paths:
            print(
                "policyengine: nothing to lint (no PATH, no policies/ or policyengine.yaml here)",
                file=sys.stderr,
            )
            return 2
    messages = lint_paths(paths, against=args.against, use_cache=not args.no_cache)
    errors = [m for m in messages if m.severity == "error"]
    warnings = [m for m in messages if m.severity != "error"]
    shown = errors if args.no_warnings else messages
    out = sys.stdout
    for message in shown:
        out.write(f"{message}\n")
    if not messages:
        out.write("All checks passed.\n")
    else:
        out.write(
            f"Found {len(errors)} error{'s' if len(errors) != 1 else ''} "
            f"and {len(warnings)} warning{'s' if len(warnings) != 1 else ''}.\n"
        )
    return 1 if errors or (args.strict and warnings) else 0
