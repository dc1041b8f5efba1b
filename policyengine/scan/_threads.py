"""Run a few blocking jobs at once on daemon threads.

Not a ThreadPoolExecutor: its worker threads are joined when the interpreter
exits, so a scan told to stop (SIGTERM, Ctrl-C) while a connector waits on a
silent server could not exit until the connector's timeout. Here the main
thread waits in ``Thread.join()``, which a signal handler interrupts, and the
workers are daemons that do not hold up the exit.
"""

from __future__ import annotations

import queue
import threading
from collections.abc import Callable, Sequence
from typing import TypeVar

T = TypeVar("T")


def run_all(jobs: Sequence[Callable[[], T]], workers: int, *, name: str) -> list[T]:
    """Results of ``jobs`` in order, on up to ``workers`` threads; a job's exception is re-raised."""
    results: list[T | None] = [None] * len(jobs)
    errors: list[BaseException | None] = [None] * len(jobs)
    pending: queue.SimpleQueue[int] = queue.SimpleQueue()
    for i in range(len(jobs)):
        pending.put(i)

    def work() -> None:
        while True:
            try:
                i = pending.get_nowait()
            except queue.Empty:
                return
            try:
                results[i] = jobs[i]()
            except BaseException as exc:  # handed to the caller's thread below
                errors[i] = exc

    threads = [
        threading.Thread(target=work, name=f"{name}-{n}", daemon=True)
        for n in range(max(1, min(workers, len(jobs))))
    ]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    for error in errors:
        if error is not None:
            raise error
    return results  # type: ignore[return-value]  # every slot is filled when no job failed
