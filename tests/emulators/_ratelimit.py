"""A per-bucket fixed-window request counter, for emulators that enforce a vendor's limits.

Windows are aligned on the epoch (Okta's per-minute limits reset on the minute), so the
reset time an emulator announces is the same for every request of a window.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Mapping
from dataclasses import dataclass

__all__ = ["FixedWindowLimiter", "Window"]


@dataclass(frozen=True, slots=True)
class Window:
    """The outcome of one request: allowed or not, and the numbers a vendor reports."""

    allowed: bool
    limit: int
    remaining: int
    reset: int  # epoch seconds when the window ends


class FixedWindowLimiter:
    """``limits`` per bucket (``default`` for others) per ``window`` seconds."""

    def __init__(self, limits: Mapping[str, int], default: int, window: int) -> None:
        self.limits = dict(limits)
        self.default = default
        self.window = window
        self._counts: dict[tuple[str, int], int] = {}
        self._lock = threading.Lock()
        #: requests refused so far (tests check a client stayed under the limit)
        self.rejected = 0

    def count(self, bucket: str) -> Window:
        limit = self.limits.get(bucket, self.default)
        start = int(time.time() // self.window) * self.window
        with self._lock:
            used = self._counts.get((bucket, start), 0)
            allowed = used < limit
            if allowed:
                used += 1
                self._counts[(bucket, start)] = used
            else:
                self.rejected += 1
            if len(self._counts) > 1000:  # forget old windows
                self._counts = {k: v for k, v in self._counts.items() if k[1] >= start}
        return Window(allowed, limit, max(0, limit - used), start + self.window)
