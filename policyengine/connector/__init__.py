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
"""

from __future__ import annotations

import argparse
import time
from collections.abc import Mapping
from dataclasses import dataclass
from importlib.metadata import entry_points
from pathlib import Path
from typing import Any, ClassVar, Protocol, runtime_checkable

from policyengine.errors import PolicyEngineError, UsageError

ENTRY_POINT_GROUP = "policyengine.connectors"


@runtime_checkable
class Connector(Protocol):
    """What every connector provides."""

    #: Name used on the command line (``policyengine collect NAME``) and in config ``type:``.
    name: ClassVar[str]
    #: One line for ``policyengine collect --help``.
    summary: ClassVar[str]

    @classmethod
    def add_arguments(cls, parser: argparse.ArgumentParser) -> None:
        """Add the connector's own options (``--instance`` and ``-o`` are added for it)."""

    @classmethod
    def from_options(cls, options: Mapping[str, Any], *, instance: str) -> Connector:
        """Build from options keyed by ``dest`` name; raise UsageError naming a bad one.

        Secrets are named by ``*_env`` / ``*_file`` options and read with
        :func:`policyengine.secrets.read_secret`.
        """

    def collect(self, writer: Any) -> None:
        """Collect everything into ``writer`` (a SnapshotWriter).

        Raise AuthenticationError when credentials are refused (nothing is
        written); call ``writer.fail(msg)`` for data that could not be read
        and carry on where that is safe, or raise ConnectorError to stop (what
        was collected is written with ``complete: false``).
        """


def option_names(add_arguments: Any) -> frozenset[str]:
    """The ``dest`` names an ``add_arguments(parser)`` function defines."""
    parser = argparse.ArgumentParser(add_help=False)
    add_arguments(parser)
    return frozenset(action.dest for action in parser._actions)


def refuse_unknown_options(
    connector: str, options: Mapping[str, Any], known: frozenset[str]
) -> None:
    """A typo in policyengine.yaml (``pasword_env``) is a usage error naming the key."""
    unknown = sorted(set(options) - known)
    if unknown:
        import difflib

        close = difflib.get_close_matches(unknown[0], known, n=1)
        hint = f" (did you mean {close[0]!r}?)" if close else ""
        raise UsageError(
            f"{connector}: unknown option {unknown[0]!r}{hint}; known: {', '.join(sorted(known))}"
        )


def option_str(
    connector: str, options: Mapping[str, Any], key: str, *, required: bool = False
) -> str | None:
    """A string option; empty is absent; the wrong type is a usage error naming the key."""
    value = options.get(key)
    if value is None or value == "":
        if required:
            raise UsageError(f"{connector}: option '{key}' is required")
        return None
    if not isinstance(value, str):
        raise UsageError(
            f"{connector}: option '{key}' must be a string, got {type(value).__name__}"
        )
    return value


def is_loopback(host: str) -> bool:
    """True for localhost and loopback addresses: the only hosts plain http may reach."""
    import ipaddress

    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def available() -> dict[str, Any]:
    """Registered connectors by name (entry points are read, classes not imported)."""
    return {ep.name: ep for ep in entry_points(group=ENTRY_POINT_GROUP)}


def load(name: str) -> type[Connector]:
    """Import and return the connector class registered as ``name``."""
    eps = available()
    if name not in eps:
        known = ", ".join(sorted(eps)) or "none"
        raise UsageError(f"unknown connector {name!r} (installed: {known})")
    return eps[name].load()  # type: ignore[no-any-return]


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
    options: Mapping[str, Any],
    *,
    instance: str,
    output: Path,
    collected_at: str | None = None,
) -> CollectResult:
    """Build and run one connector instance, writing its snapshot to ``output``.

    Raises AuthenticationError / UsageError for configuration problems (nothing
    written). Connector failures produce a snapshot with ``complete: false``.
    """
    from policyengine.log import get_logger
    from policyengine.snapshot.writer import SnapshotWriter

    log = get_logger("policyengine.connector")
    cls = load(connector_name)
    connector = cls.from_options(options, instance=instance)
    started = time.monotonic()
    log.info("connector.start", connector=connector_name, instance=instance)
    writer = SnapshotWriter(
        output, connector=connector_name, instance=instance, collected_at=collected_at
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
