"""Writing output files safely: atomically, never through a planted symlink."""

from __future__ import annotations

import contextlib
import os
import tempfile
from pathlib import Path

from policyengine.errors import UsageError


def atomic_write_text(path: Path, text: str) -> None:
    """Write ``text`` to ``path`` via a fresh temporary file in the same folder.

    ``mkstemp`` creates a new file with a random name (O_EXCL), so a symlink
    planted at a predictable temporary name cannot redirect the write; the final
    ``os.replace`` swaps the file in atomically. Errors become one-line usage
    errors naming the path.
    """
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        if path.is_dir():
            raise UsageError(f"{path}: cannot write the report: it is a directory")
        fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.")
    except OSError as exc:
        raise UsageError(f"{path}: cannot write: {exc.strerror}") from None
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as handle:
            handle.write(text)
        os.replace(tmp, path)
    except OSError as exc:
        raise UsageError(f"{path}: cannot write: {exc.strerror}") from None
    finally:
        with contextlib.suppress(FileNotFoundError):
            os.unlink(tmp)
