"""Read vendors' rate-limit headers and say how long every thread should pause.

Okta (and GitHub, with other names) answer every request with the budget
left in the current window: ``X-Rate-Limit-Limit``, ``X-Rate-Limit-Remaining``
and ``X-Rate-Limit-Reset`` (UTC epoch seconds when the window refills). A
client running N requests at once that waits for a 429 has already wasted N
requests, so :class:`RateLimitHeaders` pauses everyone *before* the budget is
gone: once ``remaining`` drops to ``reserve`` (at least the number of
requests that can be in flight), the pause lasts until the reset.

>>> import httpx
>>> hook = RateLimitHeaders(reserve=2, clock=lambda: 1000.0)
>>> r = httpx.Response(200, headers={"X-Rate-Limit-Remaining": "1", "X-Rate-Limit-Reset": "1030"})
>>> hook(r)
30.0
"""

from __future__ import annotations

import email.utils
import time
from collections.abc import Callable
from dataclasses import dataclass, field

import httpx


@dataclass(slots=True)
class RateLimitHeaders:
    """An ``on_response`` hook for :class:`~connectors.http.HttpClient`.

    Returns seconds to pause (until the window resets) when the server says
    the budget is down to ``reserve`` or a 429 arrived; None otherwise. The
    reset is measured against the server's own ``Date`` header when there is
    one, so a skewed local clock does not matter.
    """

    reserve: int = 1
    remaining_header: str = "X-Rate-Limit-Remaining"
    reset_header: str = "X-Rate-Limit-Reset"
    limit_header: str = "X-Rate-Limit-Limit"
    #: added to every pause: the server's window may flip a little late
    margin: float = 0.05
    clock: Callable[[], float] = time.time
    #: last values seen, for logs and benchmarks
    last_limit: int | None = field(default=None)
    last_remaining: int | None = field(default=None)
    pauses: int = 0

    def __call__(self, response: httpx.Response) -> float | None:
        remaining = _int(response.headers.get(self.remaining_header))
        limit = _int(response.headers.get(self.limit_header))
        if remaining is not None:
            self.last_remaining = remaining
        if limit is not None:
            self.last_limit = limit
        throttled = response.status_code == 429
        if not throttled and (remaining is None or remaining > self.reserve):
            return None
        reset = _int(response.headers.get(self.reset_header))
        if reset is None:
            return None  # nothing to go by: the retry backoff decides
        now = _server_now(response) or self.clock()
        wait = reset - now
        if wait <= 0:
            return None
        self.pauses += 1
        return wait + self.margin


def _int(value: str | None) -> int | None:
    if value is None:
        return None
    try:
        return int(value.strip())
    except ValueError:
        return None


def _server_now(response: httpx.Response) -> float | None:
    value = response.headers.get("Date")
    if not value:
        return None
    try:
        return email.utils.parsedate_to_datetime(value).timestamp()
    except (TypeError, ValueError):
        return None
