"""Standard output that reports a failed write as one line (a full disk, ``> /dev/full``).

Without this, ``OSError: [Errno 28] No space left on device`` from a ``print``
reached the user as an internal error, and the interpreter's exit-time flush
printed a second complaint. Write errors become a usage error naming standard
output (exit 2), and fd 1 is pointed at /dev/null so that the buffered rest
cannot fail again at exit. A closed pipe (``| head``) stays BrokenPipeError:
that is not an error.
"""

from __future__ import annotations

import contextlib
import os
import sys
from collections.abc import Iterator
from typing import Any, TextIO

from policyengine.errors import UsageError


class _GuardedStream:
    def __init__(self, stream: TextIO) -> None:
        self._stream = stream

    def write(self, text: str) -> int:
        try:
            return self._stream.write(text)
        except BrokenPipeError:
            raise
        except OSError as exc:
            raise _refused(exc) from None

    def flush(self) -> None:
        try:
            self._stream.flush()
        except BrokenPipeError:
            raise
        except OSError as exc:
            raise _refused(exc) from None

    def __getattr__(self, name: str) -> Any:  # isatty, fileno, encoding, buffer ...
        return getattr(self._stream, name)


def _refused(exc: OSError) -> UsageError:
    discard_stdout()
    return UsageError(f"standard output: cannot write: {exc.strerror or exc}")


def discard_stdout() -> None:
    """Point fd 1 at /dev/null so the exit-time flush of unwritten output cannot fail again."""
    with contextlib.suppress(OSError, ValueError):
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, sys.__stdout__.fileno() if sys.__stdout__ else 1)
        os.close(devnull)


@contextlib.contextmanager
def guarded_stdout() -> Iterator[None]:
    """While inside, ``sys.stdout`` write errors raise a one-line UsageError."""
    original = sys.stdout
    sys.stdout = _GuardedStream(original)
    try:
        yield
        sys.stdout.flush()  # a full disk shows here, not in the exit-time flush
    finally:
        sys.stdout = original
