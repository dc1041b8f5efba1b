"""Bounded concurrency for per-item API calls (one request per user, ...)."""

from __future__ import annotations

from collections import deque
from collections.abc import Callable, Iterable, Iterator
from concurrent.futures import FIRST_COMPLETED, Future, ThreadPoolExecutor, wait
from typing import TypeVar

T = TypeVar("T")
R = TypeVar("R")


def map_bounded(
    func: Callable[[T], R], items: Iterable[T], *, workers: int, ordered: bool = False
) -> Iterator[tuple[T, R]]:
    """Yield ``(item, func(item))`` with at most ``workers`` calls in flight.

    Items are consumed lazily, so memory stays bounded by ``workers`` however
    many items there are. Results come in completion order, or in input
    order with ``ordered=True`` (a snapshot that does not change from run to
    run). An exception from ``func`` propagates after the in-flight calls
    finish.

    >>> sorted(r for _, r in map_bounded(lambda x: x * 2, range(5), workers=2))
    [0, 2, 4, 6, 8]
    """
    if ordered:
        yield from _map_ordered(func, items, workers=workers)
        return
    iterator = iter(items)
    with ThreadPoolExecutor(max_workers=max(1, workers)) as pool:
        pending: dict[Future[R], T] = {}
        for item in iterator:
            pending[pool.submit(func, item)] = item
            if len(pending) >= workers * 2:
                break
        while pending:
            done, _ = wait(pending, return_when=FIRST_COMPLETED)
            for future in done:
                item = pending.pop(future)
                yield item, future.result()
            for item in iterator:
                pending[pool.submit(func, item)] = item
                if len(pending) >= workers * 2:
                    break


def _map_ordered(
    func: Callable[[T], R], items: Iterable[T], *, workers: int
) -> Iterator[tuple[T, R]]:
    window: deque[tuple[T, Future[R]]] = deque()
    with ThreadPoolExecutor(max_workers=max(1, workers)) as pool:
        for item in items:
            window.append((item, pool.submit(func, item)))
            if len(window) >= max(1, workers) * 2:
                head, future = window.popleft()
                yield head, future.result()
        while window:
            head, future = window.popleft()
            yield head, future.result()
