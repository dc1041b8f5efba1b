"""Options and steps shared by evaluate, diff and scan."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path
from typing import Any

SEVERITY_CHOICES = ["critical", "high", "medium", "low", "info", "none"]


def add_policy_options(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--policies",
        action="append",
        type=Path,
        metavar="PATH",
        help="policy file or folder (repeatable); default: the built-in library",
    )
    parser.add_argument(
        "--config", type=Path, help="policyengine.yaml (default: ./policyengine.yaml if present)"
    )
    parser.add_argument(
        "--profile", help="parameter profile: default, strict, ... (see `policies list`)"
    )


def add_output_options(
    parser: argparse.ArgumentParser, formats: list[str], default: str = "text"
) -> None:
    parser.add_argument(
        "--format", choices=formats, default=default, help=f"output format (default {default})"
    )
    parser.add_argument("--output", "-o", type=Path, help="write the report here instead of stdout")
    parser.add_argument(
        "--fail-on",
        choices=SEVERITY_CHOICES,
        help="exit 1 when a finding at or above this severity is active (default: high; none never fails)",
    )
    parser.add_argument(
        "--now", help="evaluation clock, ISO 8601 (default: the snapshots' collected_at)"
    )
    parser.add_argument(
        "--waivers", type=Path, help="waivers file (default: from policyengine.yaml)"
    )


def write_output(text: str, output: Path | None) -> None:
    if output is None:
        sys.stdout.write(text)
        sys.stdout.flush()
        return
    from policyengine.fsutil import atomic_write_text

    atomic_write_text(output, text)


def write_report(fmt: str, result: Any, options: Any, output: Path | None) -> None:
    """The report of ``result`` to ``output`` (streamed into the file), else to stdout."""
    from policyengine.report import render, write

    if output is None:
        write_output(render(fmt, result, options), None)
        return
    from policyengine.fsutil import open_for_write

    with open_for_write(output) as handle:
        write(fmt, result, options, handle)


def exit_code(result: Any, fail_on: str | None) -> int:
    """0 clean, 1 an active finding at/above ``fail_on`` (default high), 3 incomplete data (wins)."""
    if not result.complete:
        return 3
    return 1 if result.fails(fail_on or "high") else 0


def apply_waivers(result: Any, waivers_path: Path | None, max_days: int = 90) -> Any:
    """Apply the waivers file if one is configured (``max_days``: the waiver horizon)."""
    if waivers_path is None:
        return result
    from policyengine.findings.waivers import apply_waivers as apply
    from policyengine.findings.waivers import load_waivers

    return apply(result, load_waivers(waivers_path, max_days=max_days))


def color_enabled(output: Path | None) -> bool:
    import os

    return output is None and sys.stdout.isatty() and not os.environ.get("NO_COLOR")
