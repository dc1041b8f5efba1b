"""``policyengine remediate plan|apply``: fix findings through the connectors' actions.

``plan --result result.json -o plan.json`` turns the findings of a saved
``evaluate --format json`` result into a deterministic plan (one entry per
finding and action, from the policies' ``actions:``), offline. Its approval
hash is the sha256 of the file as written (``sha256sum plan.json``);
``--format markdown`` also prints a pull-request comment.

``apply plan.json --config policyengine.yaml --approve SHA256`` re-reads every
target live with the source's ``remediation:`` credentials, skips what
changed since the plan, acts, and records every step in the history database
(``policyengine history --actions``). Without ``--approve`` it is a dry run.

Exit codes of apply: 0 every step applied or already done (or a dry run);
4 some steps skipped because their target changed (drift) or is protected;
5 some steps failed, or were not run after a failure; 2 refused (hash
mismatch, more than --max-actions steps, missing write credentials).
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path
from typing import Any


def add_parser(sub: Any, *, full: bool) -> None:
    parser = sub.add_parser(
        "remediate",
        help="plan and apply the policies' actions (reviewed, hashed, re-checked)",
        description=__doc__,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    steps = parser.add_subparsers(dest="step", metavar="STEP", required=True)
    plan = steps.add_parser("plan", help="findings -> a plan to review (offline)")
    plan.add_argument("--result", type=Path, required=True, help="`evaluate --format json` output")
    plan.add_argument("--policy", action="append", default=[], metavar="ID", help="only these")
    plan.add_argument(
        "--fingerprint", action="append", default=[], metavar="FP", help="only these findings"
    )
    plan.add_argument(
        "--policies", type=Path, action="append", metavar="PATH", help="policy files or folders"
    )
    plan.add_argument("--config", type=Path, help="policyengine.yaml (identities never acted on)")
    plan.add_argument("-o", "--output", type=Path, required=True, help="the plan file to write")
    plan.add_argument(
        "--format",
        choices=["json", "markdown"],
        default="json",
        help="markdown: also print a pull-request comment on stdout",
    )
    plan.set_defaults(run=run_plan)
    apply = steps.add_parser("apply", help="apply an approved plan")
    add_apply_arguments(apply)
    apply.set_defaults(run=run_apply)


def add_apply_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("plan", type=Path, help="the plan file")
    parser.add_argument("--config", type=Path, help="policyengine.yaml (sources, history)")
    parser.add_argument("--approve", metavar="SHA256", help="the approved sha256 of the plan")
    parser.add_argument(
        "--max-actions",
        type=int,
        default=25,
        metavar="N",
        help="refuse a plan with more than N steps still to do (default 25)",
    )
    parser.add_argument(
        "--keep-going", action="store_true", help="carry on after a failed step (default: stop)"
    )
    from policyengine.cli.scan import history_arg

    parser.add_argument(
        "--history", type=history_arg, metavar="PATH|URL", help="history (default: as scan)"
    )
    parser.add_argument("--format", choices=["text", "json"], default="text")


def _definitions(paths: list[Path] | None, config: Any) -> dict[str, Any]:
    from policyengine.policy.loader import PolicyErrors, builtin_policy_dir, load_definitions

    inputs = list(paths or ()) or [builtin_policy_dir(), *config.policy_paths]
    definitions, errors = load_definitions(inputs)
    if errors:
        raise PolicyErrors(errors)
    return {d.id: d for d in definitions}


def protected_identities(config: Any) -> dict[str, frozenset[str]]:
    from policyengine.remediate.registry import identities_of

    return {c.instance: identities_of(c) for c in config.connectors}


def run_plan(args: argparse.Namespace) -> int:
    from policyengine.config import load_config
    from policyengine.remediate.plan import build_plan

    config = load_config(args.config)
    plan = build_plan(
        args.result,
        _definitions(args.policies, config),
        policy_ids=args.policy,
        fingerprints=args.fingerprint,
        protected=protected_identities(config),
    )
    return write_plan(plan, args.output, args.format)


def write_plan(plan: Any, output: Path, fmt: str) -> int:
    from policyengine.fsutil import open_for_write
    from policyengine.remediate.approve import plan_hash
    from policyengine.remediate.plan import dumps, markdown

    data = dumps(plan)
    with open_for_write(output) as handle:
        handle.write(data)
    digest = plan_hash(data)
    if fmt == "markdown":
        sys.stdout.write(markdown(plan, digest, output.name))
    else:
        counts = plan["counts"]
        sys.stdout.write(
            f"{output}: {counts['entries']} actions on {counts['targets']} targets "
            f"({counts['excluded']} excluded)\nsha256 {digest}\n"
        )
    return 0


def _history_path(args: argparse.Namespace, config: Any) -> Any:
    from policyengine.cli.scan import DEFAULT_HISTORY

    return args.history or config.history_path or DEFAULT_HISTORY


def run_apply(args: argparse.Namespace) -> int:
    import json

    from policyengine.config import load_config
    from policyengine.errors import UsageError
    from policyengine.history import HistoryStore
    from policyengine.remediate import record as records
    from policyengine.remediate.apply import Applier, StepResult, actor, exit_code, now
    from policyengine.remediate.approve import check_approval, read_plan
    from policyengine.remediate.registry import find_action, open_session, write_options

    if args.max_actions < 1:
        raise UsageError("--max-actions must be at least 1")
    data, digest = read_plan(args.plan)
    if args.approve is not None:
        check_approval(args.plan, digest, args.approve)
    try:
        plan = json.loads(data)
    except ValueError as exc:
        raise UsageError(f"{args.plan}: not a JSON plan ({exc})") from None
    config = load_config(args.config)
    config_file = str(config.path or "policyengine.yaml")
    who = actor()
    store = HistoryStore.open(_history_path(args, config)) if args.approve else None

    def record(result: StepResult) -> None:
        if store is None:
            return
        step = result.step
        finding = step.entry.get("finding") or {}
        records.record(
            store,
            records.ActionRecord(
                at=now(),
                actor=who,
                plan_hash=digest,
                entry_id=str(step.entry["id"]),
                policy_id=str(finding.get("policy_id") or ""),
                fingerprint=str(finding.get("fingerprint") or ""),
                source=str(step.entry["source"]),
                action=str(step.entry["action"]),
                target_kind=str(step.target["kind"]),
                target_id=str(step.target["id"]),
                target_name=str(step.target["name"]),
                result=result.result,
                detail=result.detail,
                before=result.before or dict(step.target.get("preconditions") or {}),
                after=result.after,
            ),
        )

    try:
        applier = Applier(
            plan,
            plan_hash=digest,
            instances={c.instance: c for c in config.connectors},
            find_action=find_action,
            open_session=lambda instance: open_session(instance, config_file),
            protected=protected_identities(config),
            done=records.done_steps(store, digest) if store else set(),
            record=record,
            keep_going=args.keep_going,
        )
        if store is not None:
            applier.check_sources(lambda instance: write_options(instance, config_file))
        else:
            applier.check_sources()
        to_do = applier.to_do()
        if len(to_do) > args.max_actions:
            raise UsageError(
                f"{args.plan}: {len(to_do)} steps to do, more than --max-actions "
                f"{args.max_actions}; nothing was done (raise --max-actions after review)"
            )
        if store is None:
            results = [StepResult(s, "dry-run", "would act (no --approve)") for s in to_do]
        elif not to_do:
            results = []
        else:
            results = applier.run()
    finally:
        if store is not None:
            store.close()
    _report(args, results, digest, dry_run=store is None, total=len(applier.steps))
    return exit_code(results)


def _report(
    args: argparse.Namespace, results: list[Any], digest: str, *, dry_run: bool, total: int
) -> None:
    import json

    if args.format == "json":
        doc = {
            "plan": str(args.plan),
            "sha256": digest,
            "dry_run": dry_run,
            "steps": [
                {
                    "entry": r.step.entry["id"],
                    "source": r.step.entry["source"],
                    "action": r.step.entry["action"],
                    "target": {k: r.step.target[k] for k in ("kind", "id", "name")},
                    "result": r.result,
                    "detail": r.detail,
                }
                for r in results
            ],
        }
        sys.stdout.write(json.dumps(doc, indent=2, sort_keys=True) + "\n")
        return
    if not results:
        sys.stdout.write(f"{args.plan}: nothing to do ({total} steps, all done before)\n")
        return
    if dry_run:
        sys.stdout.write(f"dry run (no --approve): sha256 {digest}\n")
    for r in results:
        e = r.step.entry
        sys.stdout.write(
            f"{r.result:<12} {e['source']} {e['action']} {r.step.target['name']}"
            f"{': ' + r.detail if r.detail else ''}\n"
        )
    counts: dict[str, int] = {}
    for r in results:
        counts[r.result] = counts.get(r.result, 0) + 1
    sys.stdout.write(", ".join(f"{n} {k}" for k, n in sorted(counts.items())) + "\n")


def print_actions(path: Any, fmt: str, limit: int | None) -> int:
    """``policyengine history --actions``: the recorded remediation steps, newest first."""
    import json

    from policyengine.history import HistoryStore
    from policyengine.remediate.record import actions

    with HistoryStore.open(path) as store:
        rows = actions(store, limit=limit)
    if fmt == "json":
        doc = {"history": str(path), "actions": [r.to_dict() for r in rows]}
        sys.stdout.write(json.dumps(doc, indent=2, sort_keys=True) + "\n")
        return 0
    if not rows:
        sys.stdout.write(f"{path}: no remediation actions recorded\n")
        return 0
    for r in rows:
        sys.stdout.write(
            f"{r.at} {r.actor} {r.result:<10} {r.source} {r.action} {r.target_name} "
            f"({r.policy_id}; plan {r.plan_hash[:12]}){': ' + r.detail if r.detail else ''}\n"
        )
    return 0
