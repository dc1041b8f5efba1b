"""File-name conventions shared by the reader and the writer."""

from __future__ import annotations

import gzip
from pathlib import Path
from typing import IO


def is_gzip(path: Path) -> bool:
    return path.name.endswith(".gz")


def is_jsonl(path: Path) -> bool:
    name = path.name[:-3] if is_gzip(path) else path.name
    return name.endswith((".jsonl", ".ndjson"))


def open_binary(path: Path, mode: str) -> IO[bytes]:
    """Open ``path`` for binary reading or writing, through gzip when named ``.gz``."""
    if is_gzip(path):
        # compresslevel 6: near-best ratio at a third of level 9's cost.
        return gzip.open(path, mode + "b", compresslevel=6)  # type: ignore[return-value]
    return open(path, mode + "b")
