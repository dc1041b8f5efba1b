"""``policyengine docs policies|model|lint``: generate docs/policies.md, or the tables of
docs/model.md (fields) or docs/lint.md (codes)."""

from __future__ import annotations

import argparse
from pathlib import Path
from typing import Any


def add_parser(sub: Any, *, full: bool) -> None:
    parser = sub.add_parser("docs", help="generate reference documentation", description=__doc__)
    parser.add_argument("what", choices=["policies", "model", "lint"])
    parser.add_argument(
        "--policies", type=Path, help="policy folder (default: the built-in library)"
    )
    parser.add_argument("--output", "-o", type=Path, help="file to write (default: stdout)")
    parser.add_argument("--check", action="store_true", help="exit 1 if --output is not up to date")
    parser.set_defaults(run=run)


def run(args: argparse.Namespace) -> int:
    import sys

    if args.what == "policies":
        text = _policies_text(args.policies)
    else:
        text = _section_text(args.what, args.output)
    if args.check:
        if args.output is None:
            print("policyengine: --check needs --output FILE", file=sys.stderr)
            return 2
        current = args.output.read_text(encoding="utf-8") if args.output.exists() else ""
        if current != text:
            print(
                f"{args.output} is out of date: run "
                f"`policyengine docs {args.what} --output {args.output}`"
            )
            return 1
        print(f"{args.output} is up to date")
        return 0
    if args.output:
        from policyengine.fsutil import atomic_write_text

        atomic_write_text(args.output, text)
    else:
        sys.stdout.write(text)
    return 0


def _policies_text(policies: Path | None) -> str:
    from policyengine.docsgen import render_reference
    from policyengine.policy.loader import PolicyErrors, builtin_policy_dir, load_definitions

    root = policies or builtin_policy_dir()
    definitions, errors = load_definitions([root])
    if errors:
        raise PolicyErrors(errors)
    return render_reference(definitions, root)


def _section_text(what: str, output: Path | None) -> str:
    """A generated section (model fields, lint codes); with ``--output``, that file with
    the section replaced between its markers."""
    from policyengine import docsgen
    from policyengine.errors import UsageError

    section, whole = {
        "model": (docsgen.render_model_fields, docsgen.render_model),
        "lint": (docsgen.render_lint_codes, docsgen.render_lint),
    }[what]
    if output is None:
        return section() + "\n"
    try:
        return whole(output.read_text(encoding="utf-8"))
    except (OSError, ValueError) as exc:
        raise UsageError(f"{output}: {getattr(exc, 'strerror', None) or exc}") from None
