"""A cache of loaded policy files for ``lint``, like ruff's: unchanged files are not re-parsed.

Each entry is keyed by the file's resolved path, size and modification time,
and the cache file by the tool version, so any edit or upgrade re-reads the
file. The cache lives in ``$POLICYENGINE_CACHE_DIR``, else
``$XDG_CACHE_HOME/policyengine``, else ``~/.cache/policyengine``; it is the
user's own, and a missing, corrupt or unwritable cache is simply ignored.
``lint --no-cache`` bypasses it.
"""

from __future__ import annotations

import contextlib
import os
import pickle
import tempfile
from pathlib import Path
from typing import Any

from policyengine import __version__

_FORMAT = 2  # 2: PolicyDefinition.actions


def cache_file() -> Path:
    base = os.environ.get("POLICYENGINE_CACHE_DIR")
    if base:
        folder = Path(base)
    else:
        xdg = os.environ.get("XDG_CACHE_HOME")
        folder = (Path(xdg) if xdg else Path.home() / ".cache") / "policyengine"
    return folder / f"lint-{__version__}-{_FORMAT}.pickle"


def file_key(path: Path) -> tuple[str, int, int] | None:
    try:
        stat = path.stat()
    except OSError:
        return None
    return (str(path.resolve()), stat.st_size, stat.st_mtime_ns)


def load() -> dict[tuple[str, int, int], Any]:
    try:
        with open(cache_file(), "rb") as handle:
            data = pickle.load(handle)  # the user's own cache directory
    except Exception:  # absent, corrupt or from another version: start afresh
        return {}
    return data if isinstance(data, dict) else {}


def save(entries: dict[tuple[str, int, int], Any]) -> None:
    target = cache_file()
    with contextlib.suppress(OSError, pickle.PicklingError):
        target.parent.mkdir(parents=True, exist_ok=True)
        fd, tmp = tempfile.mkstemp(dir=target.parent, prefix=".lint-")
        try:
            with os.fdopen(fd, "wb") as handle:
                pickle.dump(entries, handle, protocol=pickle.HIGHEST_PROTOCOL)
            os.replace(tmp, target)
        finally:
            with contextlib.suppress(FileNotFoundError):
                os.unlink(tmp)
