"""SIGTERM as an exception, so a stopped scan cleans up like an interrupted one.

A scheduler (systemd, Kubernetes, CI) stops a job with SIGTERM. Python's
default is to die on the spot: the run folder would look finished and the
lock file would keep its holder's line. Raising instead lets ``run_scan``
rename the folder ``<stamp>.failed`` and release the lock on the way out.
"""

from __future__ import annotations

import contextlib
import signal
import threading
from collections.abc import Iterator
from types import FrameType

from policyengine.errors import TerminatedError


@contextlib.contextmanager
def sigterm_raises() -> Iterator[None]:
    """While inside, SIGTERM raises :class:`TerminatedError` in the main thread."""
    if threading.current_thread() is not threading.main_thread():
        yield  # only the main thread may install handlers
        return

    def handler(signum: int, frame: FrameType | None) -> None:
        raise TerminatedError("terminated (SIGTERM)")

    previous = signal.signal(signal.SIGTERM, handler)
    try:
        yield
    finally:
        signal.signal(signal.SIGTERM, previous)
