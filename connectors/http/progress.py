"""A progress line on a terminal, silent elsewhere (CI logs stay clean)."""

from __future__ import annotations

import sys
import threading
import time
from typing import TextIO


class Progress:
    """``with Progress("okta users") as p: p.advance()`` redraws at most 10 times a second."""

    def __init__(self, label: str, total: int | None = None, stream: TextIO | None = None) -> None:
        self.label = label
        self.total = total
        self.count = 0
        self._stream = stream or sys.stderr
        self._enabled = hasattr(self._stream, "isatty") and self._stream.isatty()
        self._last = 0.0
        self._lock = threading.Lock()

    def advance(self, n: int = 1) -> None:
        with self._lock:
            self.count += n
            now = time.monotonic()
            if self._enabled and now - self._last > 0.1:
                self._last = now
                total = f"/{self.total}" if self.total else ""
                self._stream.write(f"\r{self.label}: {self.count}{total}")
                self._stream.flush()

    def __enter__(self) -> Progress:
        return self

    def __exit__(self, *exc: object) -> None:
        if self._enabled:
            self._stream.write(f"\r{self.label}: {self.count} done\n")
            self._stream.flush()
