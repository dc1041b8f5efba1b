"""Transport options every network connector shares, declared once.

``timeout``, ``ca_file``, ``max_concurrency``, ``max_attempts`` and
``retry_backoff`` have the same flag, config key, range and message in every
connector; a connector says which it uses and its defaults with a
:class:`TransportSpec`, adds them with :func:`add_transport_arguments` and
reads them with :func:`parse_transport`.
"""

from __future__ import annotations

import argparse
from dataclasses import dataclass, field

from policyengine.connector.options import Options

#: every transport key; a spec uses a subset
TRANSPORT_KEYS = ("timeout", "ca_file", "max_concurrency", "max_attempts", "retry_backoff")


@dataclass(frozen=True, slots=True)
class Transport:
    """Validated transport settings of one instance."""

    timeout: float = 30.0
    ca_file: str | None = None
    max_concurrency: int = 4
    max_attempts: int = 5
    retry_backoff: float = 0.5

    @property
    def verify(self) -> bool | str:
        """httpx ``verify``: the CA bundle when given, else the system store (never off)."""
        return self.ca_file or True


@dataclass(frozen=True, slots=True)
class TransportSpec:
    """Which transport options a connector takes, its defaults and limits."""

    keys: frozenset[str] = field(default_factory=lambda: frozenset(TRANSPORT_KEYS))
    defaults: Transport = field(default_factory=Transport)
    #: a vendor's ceiling on parallel calls (Salesforce: 10 open query cursors per user)
    max_concurrency_limit: int = 64
    concurrency_reason: str = ""
    concurrency_help: str = "calls in flight at once"


def add_transport_arguments(
    parser: argparse.ArgumentParser, spec: TransportSpec
) -> argparse._ArgumentGroup:
    """Add the ``transport`` group; returned so a connector can add its own flags to it."""
    d = spec.defaults
    group = parser.add_argument_group("transport")
    if "ca_file" in spec.keys:
        group.add_argument("--ca-file", help="PEM CA bundle that signed the server certificate")
    if "timeout" in spec.keys:
        group.add_argument(
            "--timeout", type=float, default=d.timeout, help="network timeout in seconds"
        )
    if "max_concurrency" in spec.keys:
        group.add_argument(
            "--max-concurrency",
            type=int,
            default=d.max_concurrency,
            help=f"{spec.concurrency_help} (default: %(default)s, at most "
            f"{spec.max_concurrency_limit})",
        )
    if "max_attempts" in spec.keys:
        group.add_argument(
            "--max-attempts",
            type=int,
            default=d.max_attempts,
            help="tries per request (default: %(default)s)",
        )
    if "retry_backoff" in spec.keys:
        group.add_argument(
            "--retry-backoff",
            type=float,
            default=d.retry_backoff,
            help="base of the exponential backoff in seconds (default: %(default)s)",
        )
    return group


def parse_transport(options: Options, spec: TransportSpec) -> Transport:
    """Read the spec's transport keys from ``options``; defaults for the rest."""
    d, keys = spec.defaults, spec.keys
    concurrency = d.max_concurrency
    if "max_concurrency" in keys:
        limit, given = spec.max_concurrency_limit, options.values.get("max_concurrency")
        if isinstance(given, int) and not isinstance(given, bool) and given > limit:
            # the vendor's reason, so the ceiling does not look arbitrary
            raise options.error(
                "max_concurrency", f"must be at most {limit}{spec.concurrency_reason}, got {given}"
            )
        concurrency = options.integer("max_concurrency", d.max_concurrency, low=1, high=limit)
    return Transport(
        timeout=(
            options.number("timeout", d.timeout, low=0, high=3600, positive=True)
            if "timeout" in keys
            else d.timeout
        ),
        ca_file=options.string("ca_file") if "ca_file" in keys else None,
        max_concurrency=concurrency,
        max_attempts=(
            options.integer("max_attempts", d.max_attempts, low=1, high=20)
            if "max_attempts" in keys
            else d.max_attempts
        ),
        retry_backoff=(
            options.number("retry_backoff", d.retry_backoff, low=0, high=60)
            if "retry_backoff" in keys
            else d.retry_backoff
        ),
    )
