"""A one-line progress display for people at a terminal (silent elsewhere)."""

from __future__ import annotations

import sys
import threading
from typing import TextIO


class Progress:
    """``[2/5] corp-ad: done (1,204 resources, 3.1s)``, redrawn in place on a TTY.

    On anything that is not a terminal (cron, CI, ``--log-format json``) it
    prints nothing: the structured log events carry the same facts.
    """

    def __init__(self, total: int, *, stream: TextIO | None = None, enabled: bool | None = None):
        self.total = total
        self.done = 0
        self.stream = stream or sys.stderr
        if enabled is None:
            enabled = hasattr(self.stream, "isatty") and self.stream.isatty()
        self.enabled = enabled
        self._lock = threading.Lock()
        self._width = 0

    def _draw(self, text: str) -> None:
        if not self.enabled:
            return
        line = text[:120]
        pad = max(0, self._width - len(line))
        self.stream.write("\r" + line + " " * pad)
        self.stream.flush()
        self._width = len(line)

    def started(self, instance: str) -> None:
        with self._lock:
            self._draw(f"[{self.done}/{self.total}] collecting {instance} ...")

    def finished(self, instance: str, detail: str) -> None:
        with self._lock:
            self.done += 1
            self._draw(f"[{self.done}/{self.total}] {instance}: {detail}")

    def note(self, text: str) -> None:
        with self._lock:
            self._draw(text)

    def close(self) -> None:
        with self._lock:
            if self.enabled and self._width:
                self.stream.write("\r" + " " * self._width + "\r")
                self.stream.flush()
            self._width = 0
