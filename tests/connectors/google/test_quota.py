"""The shared pause on Google's per-100-seconds quota."""

from __future__ import annotations

import httpx

from connectors.google._connector import QuotaPause

RATE = {"error": {"code": 403, "errors": [{"reason": "userRateLimitExceeded"}]}}
FORBIDDEN = {"error": {"code": 403, "errors": [{"reason": "forbidden"}]}}


def test_threads_hitting_one_spent_quota_share_one_pause_not_a_doubling_each() -> None:
    quota = QuotaPause(first=5, window=100)
    pauses = [quota(httpx.Response(403, json=RATE)) for _ in range(8)]
    assert pauses[0] == 5
    assert all(p is not None and p <= 5 for p in pauses)  # before the fix: 5, 10, ... 100
    assert quota.pauses == 1


def test_only_rate_limit_reasons_pause_and_success_resets() -> None:
    quota = QuotaPause(first=0, window=100)
    assert quota(httpx.Response(403, json=FORBIDDEN)) is None
    assert quota(httpx.Response(200, json={})) is None
    assert quota(httpx.Response(403, json=RATE)) == 0
