"""One compliance scan: collect, evaluate, waive, record, report.

Everything a run produces lands in one dated folder::

    runs/2026-11-01T060000Z/
        snapshots/<instance>.jsonl.gz   what each connector collected (or copies)
        result.json                      the waived result (``--format json`` shape)
        report.html                      self-contained report with the trend
        summary.md                       the scan summary (CI step summaries, chat)

The scan holds the history's lock from start to finish, so two scans on one
history take turns and are recorded in the order they collected.
"""

from __future__ import annotations

import dataclasses
import os
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from policyengine.errors import PolicyEngineError, UsageError
from policyengine.findings.model import Result, SourceStatus
from policyengine.history import HistoryTarget, RunChanges, scan_history
from policyengine.scan._collect import Collected, InstanceSpec, collect_all, validate_instances
from policyengine.scan._progress import Progress

#: how many past runs the HTML trend shows
TREND_RUNS = 30


@dataclass(frozen=True, slots=True)
class ScanPlan:
    """Everything a scan needs, resolved from the config and the command line."""

    policy_set: Any
    output_dir: Path
    #: a SQLite file or a PostgresHistory
    history_path: HistoryTarget
    instances: tuple[InstanceSpec, ...] = ()
    snapshots: tuple[Path, ...] = ()
    waivers_path: Path | None = None
    waiver_max_days: int = 90
    reports: tuple[str, ...] = ("json", "html", "markdown")
    max_workers: int = 4
    retries: int = 0
    now: str | None = None
    lock_timeout: float = 0.0
    fail_on: str | None = None
    title: str = "policyengine compliance report"


@dataclass(frozen=True, slots=True)
class ScanOutcome:
    """What a scan did, for the summary and the exit code."""

    run_dir: Path
    result: Result
    changes: RunChanges
    reports: dict[str, Path] = field(default_factory=dict)
    warnings: tuple[str, ...] = ()

    @property
    def missing(self) -> tuple[SourceStatus, ...]:
        return tuple(s for s in self.result.sources if not s.complete)


def _stamp(iso: str) -> str:
    """``2026-11-01T06:00:00Z`` -> ``2026-11-01T060000Z`` (a portable folder name)."""
    return iso.replace(":", "")


def make_run_dir(output_dir: Path, started_at: str) -> Path:
    """A fresh dated folder; a suffix keeps two runs in the same second apart."""
    base = _stamp(started_at)
    try:
        output_dir.mkdir(parents=True, exist_ok=True)
        for n in range(1, 1000):
            candidate = output_dir / (base if n == 1 else f"{base}-{n}")
            if candidate.with_name(candidate.name + ".failed").exists():
                continue  # a failed run of the same second: keep both
            try:
                candidate.mkdir(mode=0o700)  # findings and snapshots: owner only
            except FileExistsError:
                continue
            return candidate
    except OSError as exc:
        where = exc.filename or output_dir
        raise UsageError(f"{where}: cannot create the run folder: {exc.strerror}") from None
    raise UsageError(f"{output_dir}: too many runs named {base}")


def mark_failed(run_dir: Path, exc: BaseException) -> BaseException:
    """Rename ``run_dir`` to ``<name>.failed``; return ``exc`` naming the final folder.

    A path inside the old folder (a snapshot that did not validate) is
    rewritten to the new one, so the message points at a file that exists.
    """
    failed = run_dir.with_name(run_dir.name + ".failed")
    try:
        run_dir.rename(failed)
    except OSError:
        failed = run_dir  # cannot rename (the parent went read-only): say where it is
    if not isinstance(exc, PolicyEngineError):
        return exc  # Ctrl-C, or a bug: reported as such
    old, new = f"{run_dir}{os.sep}", f"{failed}{os.sep}"
    if exc.location is not None and exc.location.file.startswith(old):
        exc.location = dataclasses.replace(exc.location, file=new + exc.location.file[len(old) :])
    exc.message = exc.message.replace(old, new)
    if str(failed) not in str(exc):
        exc.message += f" (run folder kept as {failed})"
    return exc


def run_scan(
    plan: ScanPlan,
    *,
    clock: Callable[[], str] | None = None,
    progress: Progress | None = None,
) -> ScanOutcome:
    """Run one scan as planned and return its outcome. ``clock`` gives wall-clock UTC.

    A scan that fails once its folder exists (an error, Ctrl-C, SIGTERM under
    :func:`sigterm_raises`) leaves the folder renamed ``<stamp>.failed`` (the
    snapshots stay there for debugging), so that no tool mistakes it for a
    finished run; the error names that folder. Configuration errors and a
    history that cannot be read are raised before any folder is made.
    """
    from policyengine.log import get_logger
    from policyengine.model.timestamps import utc_now

    clock = clock or utc_now
    log = get_logger("policyengine.scan")
    validate_instances(plan.instances)
    with scan_history(plan.history_path, lock_timeout=plan.lock_timeout) as store:
        # read and write before anything changes: a damaged or read-only history fails here
        store.trend(TREND_RUNS)
        store.check_writable()
        started_at = clock()
        run_dir = make_run_dir(plan.output_dir, started_at)
        log.info(
            "scan.start",
            run_dir=str(run_dir),
            instances=len(plan.instances),
            snapshots=len(plan.snapshots),
        )
        try:
            result, warnings = _collect_and_evaluate(plan, run_dir, started_at, progress)
            changes = store.record_run(
                result, started_at=started_at, finished_at=clock(), output_dir=str(run_dir)
            )
            trend = store.trend(TREND_RUNS)
            outcome = ScanOutcome(
                run_dir=run_dir, result=result, changes=changes, warnings=tuple(warnings)
            )
            reports = _write_reports(plan, outcome, trend, started_at)
        except BaseException as exc:
            if progress:
                progress.close()
            raise mark_failed(run_dir, exc) from None
        if progress:
            progress.close()
        log.info(
            "scan.finish",
            run=changes.run.id,
            complete=result.complete,
            open=changes.run.open,
            new=changes.run.new,
            resolved=changes.run.resolved,
            missing=[s.instance for s in outcome.missing],
        )
        return dataclasses.replace(outcome, reports=reports)


def _collect_and_evaluate(
    plan: ScanPlan, run_dir: Path, started_at: str, progress: Progress | None
) -> tuple[Result, list[str]]:
    snap_dir = run_dir / "snapshots"
    snap_dir.mkdir(mode=0o700)
    copies = _copy_snapshots(plan.snapshots, snap_dir)
    collected = collect_all(
        plan.instances,
        snap_dir,
        max_workers=plan.max_workers,
        retries=plan.retries,
        progress=progress,
    )
    if progress:
        progress.note("evaluating ...")
    result = _evaluate(plan, copies, collected, started_at)
    return _waive(result, plan)


def _copy_snapshots(paths: Sequence[Path], folder: Path) -> list[Path]:
    """Keep the exact data a run judged, next to its result."""
    from policyengine.fsutil import copy_file

    out = []
    for i, src in enumerate(paths):
        if not src.is_file():
            raise UsageError(f"{src}: snapshot file not found")
        target = folder / src.name
        if target.exists():
            target = folder / f"{i}-{src.name}"
        copy_file(src, target)  # 0600, never through a planted symlink
        out.append(target)
    return out


def _evaluate(
    plan: ScanPlan, copies: Sequence[Path], collected: Sequence[Collected], started_at: str
) -> Result:
    from policyengine.api import evaluate_resources, evaluate_snapshots

    paths = [*copies, *(c.path for c in collected if c.path is not None)]
    # Instances that wrote nothing (refused credentials, a crash) still count as sources.
    lost = tuple(c.status for c in collected if c.path is None)
    if paths:
        result = evaluate_snapshots(paths, plan.policy_set, now=plan.now)
    else:
        result = evaluate_resources([], plan.policy_set, now=plan.now or started_at)
    if lost:
        result = dataclasses.replace(result, sources=(*result.sources, *lost))
    return result


def _waive(result: Result, plan: ScanPlan) -> tuple[Result, list[str]]:
    """Apply the waivers file, if the plan names one."""
    if plan.waivers_path is None:
        return result, []
    from policyengine.findings.waivers import apply_waivers, load_waivers

    waivers = load_waivers(plan.waivers_path, max_days=plan.waiver_max_days)
    return apply_waivers(result, waivers), []


def _write_reports(
    plan: ScanPlan, outcome: ScanOutcome, trend: Sequence[Any], started_at: str
) -> dict[str, Path]:
    from policyengine.fsutil import open_for_write
    from policyengine.report import ReportOptions, file_name, write
    from policyengine.scan._summary import markdown_summary

    run = outcome.changes.run
    options = ReportOptions(
        fail_on=plan.fail_on,
        history=tuple(trend),
        extra={
            "title": plan.title,
            "scan": {
                "run_id": run.id,
                "counts": run.to_dict(),
                "started_at": started_at,
                "new": list(outcome.changes.new),
                "resolved": [r.to_dict() for r in outcome.changes.resolved],
                "carried": [r.to_dict() for r in outcome.changes.carried],
            },
        },
    )
    wanted = list(dict.fromkeys(("json", "html", *plan.reports)))
    written: dict[str, Path] = {}
    for fmt in wanted:
        # each report module names its own file: the registry is the one list
        path = outcome.run_dir / file_name(fmt)
        # streamed into the file: a million findings' JSON is never one string
        with open_for_write(path) as handle:
            write(fmt, outcome.result, options, handle)
        written[fmt] = path
    summary = outcome.run_dir / "summary.md"
    _atomic_write(summary, markdown_summary(outcome, written))
    written["summary"] = summary
    return written


def _atomic_write(path: Path, text: str) -> None:
    from policyengine.fsutil import atomic_write_text

    atomic_write_text(path, text)
