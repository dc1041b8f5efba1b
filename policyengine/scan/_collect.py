"""Run every configured connector instance, a few at a time, into one folder.

Each instance runs through :func:`policyengine.connector.run` in a bounded
thread pool (connectors spend their time waiting on the network). A failure
never stops the others: the instance's source is recorded as incomplete, with
its error, and the scan carries on (fail closed, later).
"""

from __future__ import annotations

import argparse
import functools
import time
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from policyengine.errors import ConfigError, Location, PolicyEngineError
from policyengine.findings.model import SourceStatus
from policyengine.scan._progress import Progress
from policyengine.scan._threads import run_all


@dataclass(frozen=True, slots=True)
class InstanceSpec:
    """One connector instance to collect (``connectors:`` entry in policyengine.yaml)."""

    instance: str
    type: str
    options: Mapping[str, Any]
    #: where it is configured (``policyengine.yaml`` and line), for error messages
    where: Location | None = None


@dataclass(frozen=True, slots=True)
class Collected:
    """What one instance produced: its snapshot (None when nothing was written)."""

    status: SourceStatus
    path: Path | None
    attempts: int


def validate_instances(instances: Sequence[InstanceSpec]) -> None:
    """Fail fast (exit 2) on a configuration error, before a run is started or recorded.

    An unknown connector type, an unknown option or a value the connector
    refuses (an invalid LDAP URL) is the user's to fix: collecting would only
    record a run whose source is "incomplete" for a reason no retry can cure.
    """
    from policyengine import connector as registry

    for spec in instances:
        try:
            cls = registry.load(spec.type)
            cls.from_options(with_defaults(spec.type, spec.options), instance=spec.instance)
        except PolicyEngineError as exc:
            if exc.exit_code != 2 or spec.where is None:
                raise
            raise ConfigError(
                f"connector {spec.instance!r}: {exc.message}", spec.where, exc.code
            ) from None


def with_defaults(connector_type: str, options: Mapping[str, Any]) -> dict[str, Any]:
    """The connector's CLI defaults overlaid with the configured options.

    Config and command line then mean the same thing: an option left out of
    ``policyengine.yaml`` takes the value ``policyengine collect`` would give it.
    """
    from policyengine import connector as registry

    cls = registry.load(connector_type)
    parser = argparse.ArgumentParser(add_help=False)
    cls.add_arguments(parser)
    defaults = {
        a.dest: a.default
        for a in parser._actions  # argparse has no public accessor for its actions
        if a.dest != argparse.SUPPRESS and a.default is not argparse.SUPPRESS
    }
    return {**defaults, **dict(options)}


def collect_all(
    instances: Sequence[InstanceSpec],
    folder: Path,
    *,
    max_workers: int = 4,
    retries: int = 0,
    collected_at: str | None = None,
    progress: Progress | None = None,
) -> list[Collected]:
    """Collect every instance into ``folder/<instance>.jsonl.gz``; results in input order."""
    folder.mkdir(parents=True, exist_ok=True)
    if not instances:
        return []
    jobs = [
        functools.partial(_collect_one, spec, folder, retries, collected_at, progress)
        for spec in instances
    ]
    return run_all(jobs, max_workers, name="collect")


def _collect_one(
    spec: InstanceSpec,
    folder: Path,
    retries: int,
    collected_at: str | None,
    progress: Progress | None,
) -> Collected:
    from policyengine import connector as registry
    from policyengine.log import get_logger
    from policyengine.model.timestamps import utc_now
    from policyengine.redact import redact_text

    log = get_logger("policyengine.scan")
    output = folder / f"{spec.instance}.jsonl.gz"
    if progress:
        progress.started(spec.instance)
    attempts = 0
    started = time.monotonic()
    errors: tuple[str, ...]
    while True:
        attempts += 1
        try:
            outcome = registry.run(
                spec.type,
                with_defaults(spec.type, spec.options),
                instance=spec.instance,
                output=output,
                collected_at=collected_at,
            )
        except Exception as exc:  # refused credentials, bad options, a bug: data is missing
            error = redact_text(f"{type(exc).__name__}: {exc}")
            complete, errors, counts, path = False, (error,), {}, None
        else:
            complete, errors = outcome.complete, outcome.errors
            counts, path = dict(outcome.counts), outcome.path
        if complete or attempts > retries:
            break
        log.warning(
            "connector.retry",
            connector=spec.type,
            instance=spec.instance,
            attempt=attempts + 1,
            of=retries + 1,
            errors=list(errors),
        )
    seconds = time.monotonic() - started
    total = sum(counts.values())
    log.info(
        "scan.instance",
        connector=spec.type,
        instance=spec.instance,
        complete=complete,
        attempts=attempts,
        resources=total,
        seconds=round(seconds, 3),
    )
    if progress:
        state = "done" if complete else "INCOMPLETE"
        progress.finished(spec.instance, f"{state} ({total:,} resources, {seconds:.1f}s)")
    status = SourceStatus(
        connector=spec.type,
        instance=spec.instance,
        collected_at=collected_at or utc_now(),
        complete=complete,
        errors=tuple(errors),
        file=str(path) if path else None,
        counts=counts,
    )
    return Collected(
        status=status, path=path if path and path.exists() else None, attempts=attempts
    )
