"""Writing output files safely: one helper that every writer uses.

Rules, in order:

- a symbolic link is refused (a planted link must not redirect a write), except
  the names of the process's own streams (``/dev/stdout``, ``/dev/fd/1`` ...);
- an existing non-regular file (a device such as ``/dev/null``, a FIFO) is
  written straight into: renaming a file over it would replace the device;
- anything else (a regular file, or nothing yet) gets a fresh ``0600``
  temporary file in the same folder that is renamed into place, so a reader
  never sees half a file.

Errors become one-line usage errors naming the path.
"""

from __future__ import annotations

import contextlib
import os
import re
import stat
import tempfile
from collections.abc import Iterator
from pathlib import Path
from typing import IO

from policyengine.errors import UsageError

#: names a user gives to mean "this process's stream"; they are symlinks by design
_STREAM_NAME = re.compile(r"^/(dev/(stdout|stderr|fd/\d+)|proc/(self|thread-self)/fd/\d+)$")
PRIVATE_MODE = 0o600


def refuse_symlink(path: Path) -> None:
    """Raise a usage error if ``path`` is a symbolic link (dangling or not)."""
    if path.is_symlink():
        raise UsageError(f"{path}: is a symbolic link; refusing to follow it")


def _existing_kind(path: Path) -> int | None:
    """The ``st_mode`` of what is at ``path`` (not following a link), or None."""
    try:
        return os.lstat(path).st_mode
    except FileNotFoundError:
        return None


@contextlib.contextmanager
def open_for_write(path: Path) -> Iterator[IO[bytes]]:
    """Yield a binary handle whose contents end up at ``path`` (see the module rules)."""
    path = Path(path)
    try:
        mode = _existing_kind(path)
        if mode is not None and stat.S_ISLNK(mode):
            if not _STREAM_NAME.match(os.path.abspath(path)):
                refuse_symlink(path)
            # the user's own stdout/stderr: append, so a shell's `>>` is respected
            fd = os.open(path, os.O_WRONLY | os.O_APPEND | os.O_NOCTTY)
            with os.fdopen(fd, "wb") as handle:
                yield handle
            return
        if mode is not None and stat.S_ISDIR(mode):
            raise UsageError(f"{path}: cannot write: it is a directory")
        if mode is not None and not stat.S_ISREG(mode):
            fd = os.open(path, os.O_WRONLY | os.O_NOFOLLOW | os.O_NOCTTY)
            with os.fdopen(fd, "wb") as handle:
                yield handle
            return
        path.parent.mkdir(parents=True, exist_ok=True)
        # mkstemp: O_EXCL, mode 0600, a random name a planted link cannot predict
        fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.")
    except OSError as exc:
        raise UsageError(f"{path}: cannot write: {exc.strerror or exc}") from None
    try:
        with os.fdopen(fd, "wb") as handle:
            yield handle
        os.replace(tmp, path)
    except OSError as exc:
        raise UsageError(f"{path}: cannot write: {exc.strerror or exc}") from None
    finally:
        with contextlib.suppress(FileNotFoundError):
            os.unlink(tmp)


def atomic_write_text(path: Path, text: str) -> None:
    """Write ``text`` (UTF-8) to ``path`` following the module's rules."""
    with open_for_write(path) as handle:
        handle.write(text.encode("utf-8"))


def copy_file(source: Path, target: Path) -> None:
    """Copy ``source`` to ``target`` (created ``0600``, same rules as every other write)."""
    with open_for_write(target) as out, open(source, "rb") as src:
        while chunk := src.read(1 << 20):
            out.write(chunk)


def create_private(path: Path) -> None:
    """Create ``path`` as an empty ``0600`` regular file unless it exists; refuse a symlink."""
    refuse_symlink(path)
    try:
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_NOFOLLOW, PRIVATE_MODE)
    except FileExistsError:
        return
    os.close(fd)
