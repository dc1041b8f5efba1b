"""``policyengine test [PATH ...]``: run policy unit tests (like ``opa test``)."""

from __future__ import annotations

import argparse
from pathlib import Path
from typing import Any


def add_parser(sub: Any, *, full: bool) -> None:
    parser = sub.add_parser(
        "test",
        help="run the policy tests (*.test.yaml next to each policy)",
        description="Run policy unit tests: fixture resources and the findings they must produce.",
    )
    parser.add_argument(
        "paths",
        nargs="*",
        type=Path,
        metavar="PATH",
        help="policy folders or files (default: the built-in library)",
    )
    parser.add_argument("-v", "--verbose", action="store_true", help="list every case")
    parser.set_defaults(run=run)


def run(args: argparse.Namespace) -> int:
    import sys
    import time

    from policyengine.policy.loader import builtin_policy_dir, load_definitions
    from policyengine.testing import discover_tests, run_tests

    started = time.perf_counter()
    paths = list(args.paths) or [builtin_policy_dir()]
    policy_paths = [p if p.is_dir() else _policy_of(p) for p in paths]
    definitions, errors = load_definitions(policy_paths)
    for error in errors:
        print(error, file=sys.stderr)
    run_ = run_tests(discover_tests(paths), definitions)
    for result in run_.results:
        if args.verbose or not result.passed:
            status = "PASSED" if result.passed else "FAILED"
            print(f"{result.file}:{result.line}: {result.policy} {result.name} {status}")
            if result.detail:
                print(f"      {result.detail}")
    for error in run_.errors:
        print(f"{error} ERROR")
    failed = run_.failed + len(errors)
    seconds = time.perf_counter() - started
    print(f"{run_.passed} passed, {failed} failed in {seconds:.2f}s")
    return 1 if failed or not run_.results else 0


def _policy_of(path: Path) -> Path:
    name = path.name
    for suffix in (".test.yaml", ".test.yml"):
        if name.endswith(suffix):
            return path.with_name(name[: -len(suffix)] + suffix[5:])
    return path
