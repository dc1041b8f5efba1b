"""``policyengine diff``: the CI gate. Report only what a change introduces.

Evaluates the base and the head (or takes a saved ``--format json`` result as
the base, detected by content), matches findings by fingerprint and reports
each as new, resolved or unchanged. Waivers are applied with the head's
clock. Exit 1 only when a new, unwaived finding is at or above ``--fail-on``
(default high); exit 3 when either side's data is incomplete.
"""

from __future__ import annotations

import argparse
from pathlib import Path
from typing import Any

from policyengine.cli._common import add_output_options, add_policy_options
from policyengine.report import FORMATS

#: bytes read to tell a saved result from a snapshot
_PEEK = 64 * 1024


def add_parser(sub: Any, *, full: bool) -> None:
    parser = sub.add_parser(
        "diff",
        help="CI gate: findings a change introduces (new / resolved / unchanged)",
        description=__doc__,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument(
        "--base",
        action="append",
        type=Path,
        required=True,
        metavar="SNAPSHOT_OR_RESULT",
        help="snapshot(s) before the change (repeatable), or one saved `--format json` result",
    )
    parser.add_argument(
        "--head",
        action="append",
        type=Path,
        required=True,
        metavar="SNAPSHOT",
        help="snapshot(s) after the change (repeatable)",
    )
    add_policy_options(parser)
    add_output_options(parser, list(FORMATS))
    parser.set_defaults(run=run)


def run(args: argparse.Namespace) -> int:
    from policyengine.api import evaluate_snapshots, load_policy_set
    from policyengine.cli._common import apply_waivers, color_enabled, exit_code, write_output
    from policyengine.config import load_config
    from policyengine.findings.diff import diff_results
    from policyengine.report import ReportOptions, render

    config = load_config(args.config)
    policy_set = load_policy_set(args.policies, config=config, profile=args.profile)
    head = evaluate_snapshots(list(args.head), policy_set, now=args.now)
    saved = _saved_result(list(args.base))
    if saved is not None:
        base = saved
    else:
        # the head's clock for both sides: age-based findings must not look
        # "new" only because time passed between the two collections
        base = evaluate_snapshots(list(args.base), policy_set, now=args.now or head.now)
    result = apply_waivers(
        diff_results(base, head), args.waivers or config.waivers_path, config.waiver_max_days
    )
    fail_on = args.fail_on or config.fail_on or "high"
    options = ReportOptions(color=color_enabled(args.output), fail_on=fail_on, diff=True)
    write_output(render(args.format, result, options), args.output)
    return exit_code(result, fail_on)  # only new, unwaived findings count; incomplete: 3


def _saved_result(paths: list[Path]) -> Any:
    """The base as a saved result, when it is one; ``None`` for snapshots."""
    from policyengine.errors import UsageError

    found = [(p, doc) for p in paths if (doc := _load_if_result(p)) is not None]
    if not found:
        return None
    if len(paths) > 1:
        raise UsageError(
            f"--base {found[0][0]} is a saved result; a saved result must be the only --base"
        )
    path, doc = found[0]
    from policyengine.findings.saved import result_from_saved

    return result_from_saved(doc, str(path))  # a field it cannot judge: exit 2, file and field


def _load_if_result(path: Path) -> Any:
    """Parse ``path`` when its content is a ``--format json`` result, else ``None``.

    Detected by content, not by name: a JSON object (optionally gzip) with
    ``schema_version`` and a ``findings`` list. Snapshots (``snapshot_version``,
    or JSON Lines) are left to the snapshot reader.
    """
    import gzip

    import orjson

    from policyengine.errors import Location, SnapshotError
    from policyengine.findings.diff import is_result_document

    try:
        with path.open("rb") as fh:
            magic = fh.read(2)
        opener = gzip.open if magic == b"\x1f\x8b" else open
        with opener(path, "rb") as fh:
            head = fh.read(_PEEK)
    except (OSError, EOFError) as exc:
        raise SnapshotError(f"cannot read: {exc}", Location(str(path))) from None
    text = head.lstrip()
    if not text.startswith(b"{") or b'"schema_version"' not in text:
        return None
    snap = text.find(b'"snapshot_version"')
    if snap != -1 and snap < text.find(b'"schema_version"'):
        return None
    with opener(path, "rb") as fh:
        raw = fh.read()
    try:
        doc = orjson.loads(raw)
    except orjson.JSONDecodeError:
        return None  # JSON Lines or broken: the snapshot reader says what is wrong
    return doc if is_result_document(doc) else None
