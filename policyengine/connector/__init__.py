"""The connector plug-in interface and registry.

A connector is a class registered under the entry-point group
``policyengine.connectors``; a third party adds one without touching this
repository::

    [project.entry-points."policyengine.connectors"]
    acme = "acme_policyengine:AcmeConnector"

It knows nothing about policies: it turns a source's API into normalised
resources and hands them to a :class:`~policyengine.snapshot.SnapshotWriter`.
The same option names (argparse ``dest`` names, with underscores) are used on
the command line (``policyengine collect NAME --page-size 500``) and per
instance in ``policyengine.yaml`` (``page_size: 500``).

The kit a connector builds on (docs/connectors/README.md, "Writing a connector"):

- :mod:`.contract`: the :class:`Connector` and :class:`SnapshotSink` protocols,
  checked when a plug-in is loaded;
- :mod:`.options`: typed option readers (:class:`Options`);
- :mod:`.transport`: the shared timeout / CA file / concurrency / retry options;
- :mod:`.account_types`: the one account-type rule grammar and its defaults.
"""

from __future__ import annotations

import time
from collections.abc import Mapping
from dataclasses import dataclass
from importlib.metadata import EntryPoint, entry_points
from pathlib import Path

from policyengine.connector.contract import Connector, Record, SnapshotSink, check_contract
from policyengine.connector.options import (
    Options,
    SecretRef,
    is_loopback,
    option_names,
    option_str,
    refuse_unknown_options,
)
from policyengine.errors import PolicyEngineError, UsageError

__all__ = [
    "ENTRY_POINT_GROUP",
    "CollectResult",
    "Connector",
    "Options",
    "Record",
    "SecretRef",
    "SnapshotSink",
    "available",
    "installed_names",
    "is_loopback",
    "load",
    "option_names",
    "option_str",
    "refuse_unknown_options",
    "run",
]

ENTRY_POINT_GROUP = "policyengine.connectors"


def available() -> dict[str, EntryPoint]:
    """Registered connectors by name (entry points are read, classes not imported)."""
    return {ep.name: ep for ep in entry_points(group=ENTRY_POINT_GROUP)}


def installed_names() -> frozenset[str]:
    """Names of the installed connectors: the valid ``type:`` and remediation keys."""
    return frozenset(available())


def load(name: str) -> type[Connector]:
    """Import and return the connector class registered as ``name``."""
    eps = available()
    if name not in eps:
        known = ", ".join(sorted(eps)) or "none"
        raise UsageError(f"unknown connector {name!r} (installed: {known})")
    return check_contract(name, eps[name].load())


@dataclass(frozen=True, slots=True)
class CollectResult:
    """What one connector run produced."""

    instance: str
    connector: str
    path: Path
    complete: bool
    errors: tuple[str, ...]
    counts: Mapping[str, int]
    seconds: float


def run(
    connector_name: str,
    options: Mapping[str, object],
    *,
    instance: str,
    output: Path,
    collected_at: str | None = None,
    strict: bool | None = None,
) -> CollectResult:
    """Build and run one connector instance, writing its snapshot to ``output``.

    Raises AuthenticationError / UsageError for configuration problems (nothing
    written). ``strict``: a record outside the model fails the run (``None``: the
    ``POLICYENGINE_STRICT_MODEL`` environment switch). Connector failures produce a snapshot with ``complete: false``.
    """
    from policyengine.log import get_logger
    from policyengine.snapshot.writer import SnapshotWriter

    log = get_logger("policyengine.connector")
    cls = load(connector_name)
    connector = cls.from_options(options, instance=instance)
    started = time.monotonic()
    log.info("connector.start", connector=connector_name, instance=instance)
    writer = SnapshotWriter(
        output,
        connector=connector_name,
        instance=instance,
        collected_at=collected_at,
        strict=strict,
    )
    try:
        with writer:
            connector.collect(writer)
    except PolicyEngineError as exc:
        if exc.exit_code == 2:
            raise  # configuration problem: nothing was written
        log.error("connector.failed", connector=connector_name, instance=instance, error=str(exc))
    except Exception as exc:  # any library error: the snapshot already says complete: false
        log.error("connector.failed", connector=connector_name, instance=instance, error=exc)
    seconds = time.monotonic() - started
    counts = {k: v for k, v in writer.counts.items() if v}
    log.info(
        "connector.finish",
        connector=connector_name,
        instance=instance,
        complete=writer.complete,
        seconds=round(seconds, 3),
        **{f"count_{k}": v for k, v in counts.items()},
    )
    return CollectResult(
        instance=instance,
        connector=connector_name,
        path=output,
        complete=writer.complete,
        errors=tuple(writer.errors),
        counts=counts,
        seconds=seconds,
    )
