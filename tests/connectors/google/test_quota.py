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


def test_pause_never_exceeds_the_quota_window_option(tmp_path) -> None:
    from connectors.google._connector import GoogleConnector
    from connectors.google._options import parse_options

    base = {"service_account_file": str(tmp_path / "k.json"), "subject": "a@x.example"}
    assert GoogleConnector(parse_options(base), instance="g").quota.window == 60  # a minute
    scaled = GoogleConnector(parse_options({**base, "quota_window": 10}), instance="g").quota
    pauses = []
    for _ in range(8):
        scaled._until = 0.0  # each 403 after the previous pause ended: the pause doubles
        pauses.append(scaled(httpx.Response(403, json=RATE)))
    assert max(p for p in pauses if p is not None) == 10


def test_emulator_finds_a_user_without_scanning_every_user() -> None:
    """The 50,000-user bench did not finish: each tokens/asps call scanned the user list."""
    from tests.emulators.google import GoogleEmulator, GoogleTenant

    class CountingList(list):  # type: ignore[type-arg]
        scans = 0

        def __iter__(self):  # type: ignore[no-untyped-def]
            CountingList.scans += 1
            return super().__iter__()

    users = CountingList(
        {"id": f"2{n:020d}", "primaryEmail": f"u{n}@x.example"} for n in range(5000)
    )
    emulator = GoogleEmulator(
        GoogleTenant("C0", "x.example", users), client_email="e", public_key_pem="k"
    )
    CountingList.scans = 0
    assert all(emulator._user_known(u["id"]) for u in users[-200:])
    assert CountingList.scans <= 1  # before the fix: 200


def test_pacer_spaces_calls_at_the_quota_rate() -> None:
    import threading
    import time

    from connectors.google._connector import QuotaPacer

    pace = QuotaPacer(quota=100, window=1.0)
    started = time.monotonic()
    threads = [threading.Thread(target=lambda: [pace() for _ in range(10)]) for _ in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert time.monotonic() - started >= 0.38  # 40 calls at 100 a second, from 4 threads


def test_collection_stays_within_the_quota(make_google, tmp_path) -> None:  # type: ignore[no-untyped-def]
    from tests.connectors.google.conftest import collect

    unpaced = make_google(user_quota=8, quota_window=1)
    collect(unpaced, tmp_path / "a.json")
    assert unpaced.emulator.limiter.rejected >= 5  # 403s, each retry an attempt spent

    paced = make_google(user_quota=8, quota_window=1)
    result, snap = collect(paced, tmp_path / "b.json", quota=8, quota_window=1)
    assert result.complete, result.errors
    assert len(snap["accounts"]) == 8
    assert paced.emulator.limiter.rejected <= 1  # a call crossing a window edge at most
