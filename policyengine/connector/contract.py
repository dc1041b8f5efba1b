"""The typed seam between the engine and a connector plug-in.

Two protocols: :class:`Connector` is what a plug-in class provides, and
:class:`SnapshotSink` is what its ``collect`` is given (a
:class:`~policyengine.snapshot.SnapshotWriter` at run time, anything with
these members in a test). :func:`check_contract` runs when a plug-in is
loaded, so a class that does not fit is one clear error naming the entry
point and the missing piece, not an ``AttributeError`` mid-scan.
"""

from __future__ import annotations

import argparse
import inspect
from collections.abc import Mapping, MutableMapping
from typing import Any, ClassVar, Protocol, cast, runtime_checkable

from policyengine.errors import UsageError

#: A resource record as a connector hands it over: model fields plus ``raw``.
Record = Mapping[str, object]


@runtime_checkable
class SnapshotSink(Protocol):
    """Where a connector puts what it collected."""

    @property
    def extra_source(self) -> MutableMapping[str, Any]:
        """Extra keys for the snapshot's ``source`` header (``instance_url``, ``api_usage``).

        Values are any JSON value (numbers, lists, objects): the header is JSON.
        """
        ...

    @property
    def collected_at(self) -> str:
        """The run's timestamp (``2026-11-01T00:00:00Z``): "now" for age fields."""
        ...

    def add(self, resource: Record, *, replace: bool = False) -> bool:
        """Write one resource; ``replace`` lets a later record with the same id win.

        Returns False when a resource with the same kind and id was already
        added (and ``replace`` is false).
        """
        ...

    def fail(self, error: str) -> None:
        """Record data that could not be read: the snapshot says ``complete: false``."""
        ...


@runtime_checkable
class Connector(Protocol):
    """What every connector plug-in class provides."""

    #: Name used on the command line (``policyengine collect NAME``) and in config ``type:``.
    name: ClassVar[str]
    #: One line for ``policyengine collect --help``.
    summary: ClassVar[str]

    @classmethod
    def add_arguments(cls, parser: argparse.ArgumentParser) -> None:
        """Add the connector's own options (``--instance`` and ``-o`` are added for it)."""
        ...

    @classmethod
    def from_options(cls, options: Mapping[str, object], *, instance: str) -> Connector:
        """Build from options keyed by ``dest`` name; raise UsageError naming a bad one.

        Use :class:`policyengine.connector.options.Options` to read them;
        secrets are named by ``*_env`` / ``*_file`` options, never given inline.
        """
        ...

    def collect(self, writer: SnapshotSink) -> None:
        """Collect everything into ``writer``.

        Raise AuthenticationError when credentials are refused (nothing is
        written); call ``writer.fail(msg)`` for data that could not be read
        and carry on where that is safe, or raise ConnectorError to stop (what
        was collected is written with ``complete: false``).
        """
        ...


#: member name -> (must be a classmethod, the parameters it must accept)
_METHODS: dict[str, tuple[bool, tuple[str, ...]]] = {
    "add_arguments": (True, ("parser",)),
    "from_options": (True, ("options", "instance")),
    "collect": (False, ("writer",)),
}


def check_contract(entry_point: str, plugin: object) -> type[Connector]:
    """Return ``plugin`` as a connector class, or raise UsageError saying what does not fit."""
    where = f"connector {entry_point!r} ({getattr(plugin, '__module__', '?')})"
    if not inspect.isclass(plugin):
        raise UsageError(f"{where}: the entry point must name a class, not {type(plugin).__name__}")
    for attribute in ("name", "summary"):
        value = getattr(plugin, attribute, None)
        if not isinstance(value, str) or not value:
            raise UsageError(f"{where}: class attribute {attribute!r} must be a non-empty string")
    declared = getattr(plugin, "name")  # noqa: B009 - checked above, not known to the type
    if declared != entry_point:
        raise UsageError(
            f"{where}: registered as {entry_point!r} but its name is {declared!r}; "
            "config type: and remediation keys use the registered name"
        )
    for method, (is_classmethod, parameters) in _METHODS.items():
        raw = inspect.getattr_static(plugin, method, None)
        if raw is None or not callable(getattr(plugin, method)):
            raise UsageError(f"{where}: missing method {method}()")
        if is_classmethod and not isinstance(raw, classmethod | staticmethod):
            raise UsageError(f"{where}: {method}() must be a classmethod")
        signature = inspect.signature(getattr(plugin, method))
        missing = [p for p in parameters if not _accepts(signature, p)]
        if missing:
            raise UsageError(f"{where}: {method}() must accept {', '.join(missing)}")
    # the members checked above are what the protocol asks for
    return cast("type[Connector]", plugin)


def _accepts(signature: inspect.Signature, name: str) -> bool:
    kinds = {p.kind for p in signature.parameters.values()}
    if name in signature.parameters:
        return True
    return inspect.Parameter.VAR_KEYWORD in kinds or (
        name != "instance" and inspect.Parameter.VAR_POSITIONAL in kinds
    )
