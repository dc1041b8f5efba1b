"""map_bounded and Progress."""

from __future__ import annotations

import io
import threading
import time

import pytest

from connectors.http import Progress, map_bounded


def test_map_bounded_never_exceeds_the_worker_count() -> None:
    in_flight = 0
    peak = 0
    lock = threading.Lock()

    def work(x: int) -> int:
        nonlocal in_flight, peak
        with lock:
            in_flight += 1
            peak = max(peak, in_flight)
        time.sleep(0.005)
        with lock:
            in_flight -= 1
        return x * x

    results = dict(map_bounded(work, range(60), workers=4))
    assert results == {x: x * x for x in range(60)}
    assert 2 <= peak <= 4


def test_map_bounded_consumes_items_lazily() -> None:
    consumed = 0

    def items():
        nonlocal consumed
        for i in range(1000):
            consumed += 1
            yield i

    iterator = map_bounded(lambda x: x, items(), workers=3)
    next(iterator)
    assert consumed <= 3 * 2 + 1


def test_map_bounded_propagates_errors() -> None:
    def fail(x: int) -> int:
        if x == 5:
            raise ValueError("boom")
        return x

    with pytest.raises(ValueError, match="boom"):
        list(map_bounded(fail, range(10), workers=2))


class Tty(io.StringIO):
    def isatty(self) -> bool:
        return True


def test_progress_draws_on_a_terminal_only() -> None:
    tty, pipe = Tty(), io.StringIO()
    for stream in (tty, pipe):
        with Progress("okta users", stream=stream) as p:
            p.advance(3)
    assert "okta users: 3 done" in tty.getvalue()
    assert pipe.getvalue() == ""


def test_map_bounded_ordered_keeps_input_order() -> None:
    def work(x: int) -> int:
        time.sleep(0.002 * (x % 3))  # later items often finish first
        return -x

    out = list(map_bounded(work, range(40), workers=4, ordered=True))
    assert out == [(x, -x) for x in range(40)]
