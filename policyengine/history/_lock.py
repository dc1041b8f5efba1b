"""One scan at a time per history file: an advisory ``fcntl`` lock on ``<db>.lock``.

SQLite's own locking (``BEGIN IMMEDIATE`` with a busy timeout) keeps every
single write atomic; this lock keeps two whole *scans* from interleaving, so
that runs are recorded in the order they collected. The lock file is never
deleted (deleting lock files races); the kernel drops the lock when the holder
exits, even when it is killed.
"""

from __future__ import annotations

import os
import socket
import stat
import time
from pathlib import Path
from types import TracebackType
from typing import IO

from policyengine.history._errors import HistoryError, HistoryLockedError
from policyengine.model.timestamps import utc_now

try:  # POSIX; elsewhere only SQLite's per-transaction locking applies
    import fcntl
except ImportError:  # pragma: no cover - Windows
    fcntl = None  # type: ignore[assignment]


def lock_path_for(history: Path) -> Path:
    return history.with_name(history.name + ".lock")


class ScanLock:
    """Hold ``path`` exclusively; wait up to ``timeout`` seconds, then fail cleanly.

    >>> import tempfile, pathlib
    >>> p = pathlib.Path(tempfile.mkdtemp()) / "h.db.lock"
    >>> with ScanLock(p):
    ...     pass
    """

    def __init__(self, path: Path, *, timeout: float = 0.0, poll: float = 0.1) -> None:
        self.path = path
        self.timeout = timeout
        self.poll = poll
        self._file: IO[str] | None = None

    def __enter__(self) -> ScanLock:
        handle = self._open()  # held until __exit__
        if fcntl is None:  # pragma: no cover
            self._file = handle
            return self
        deadline = time.monotonic() + self.timeout
        while True:
            try:
                fcntl.flock(handle.fileno(), fcntl.LOCK_EX | fcntl.LOCK_NB)
                break
            except BlockingIOError:
                if time.monotonic() >= deadline:
                    handle.seek(0)
                    holder = handle.read().strip() or "another process"
                    handle.close()
                    raise HistoryLockedError(
                        f"another scan is using this history ({holder}); "
                        f"waited {self.timeout:g}s — retry later or raise --lock-timeout",
                        path=self.path,
                    ) from None
                time.sleep(self.poll)
        handle.seek(0)
        handle.truncate()
        stamp = utc_now()
        handle.write(f"pid {os.getpid()} on {socket.gethostname()} since {stamp}\n")
        handle.flush()
        self._file = handle
        return self

    def _open(self) -> IO[str]:
        """Open the lock file 0600 without following a symlink (a planted link is refused)."""
        flags = os.O_RDWR | os.O_CREAT | os.O_NOFOLLOW | os.O_NONBLOCK | os.O_CLOEXEC
        try:
            self.path.parent.mkdir(parents=True, exist_ok=True)
            fd = os.open(self.path, flags, 0o600)
        except OSError as exc:
            why = "is a symbolic link; refusing to follow it" if self.path.is_symlink() else ""
            raise HistoryError(
                why or f"cannot open the lock file: {exc.strerror}", path=self.path
            ) from None
        if not stat.S_ISREG(os.fstat(fd).st_mode):
            os.close(fd)
            raise HistoryError("the lock file is not a regular file", path=self.path)
        return os.fdopen(fd, "r+", encoding="utf-8")

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        if self._file is not None:
            if fcntl is not None:
                self._file.seek(0)
                self._file.truncate()
                fcntl.flock(self._file.fileno(), fcntl.LOCK_UN)
            self._file.close()
            self._file = None
