"""How much one snapshot file may make the reader hold or decompress.

A 1 MB ``.gz`` can expand to gigabytes (a decompression bomb), and one JSONL
line can be a gigabyte long; without bounds the process runs out of memory.
Each limit has a default far above real data (a million accounts are about
430 MB of JSONL, one resource a few KB) and an environment variable that
overrides it, in bytes or with a K/M/G suffix (powers of 1024)::

    POLICYENGINE_MAX_LINE_BYTES=64M policyengine evaluate --snapshot big.jsonl.gz

Read when a snapshot is opened, so every command (evaluate, diff, scan,
explain, check-access) obeys the same limits.
"""

from __future__ import annotations

import os
from dataclasses import dataclass

from policyengine.errors import UsageError

_UNITS = {"": 1, "K": 1 << 10, "M": 1 << 20, "G": 1 << 30}

#: (environment variable, default): one JSONL line (one resource record)
LINE = ("POLICYENGINE_MAX_LINE_BYTES", 16 << 20)
#: a ``.json`` document, parsed whole in memory (use JSONL for more)
DOCUMENT = ("POLICYENGINE_MAX_JSON_BYTES", 64 << 20)
#: all of one JSONL file after decompression (streamed, but every id is remembered)
SNAPSHOT = ("POLICYENGINE_MAX_SNAPSHOT_BYTES", 8 << 30)


@dataclass(frozen=True, slots=True)
class Limits:
    line: int
    document: int
    snapshot: int


def current_limits() -> Limits:
    """The limits in force: the environment's, else the defaults."""
    return Limits(line=_limit(*LINE), document=_limit(*DOCUMENT), snapshot=_limit(*SNAPSHOT))


def describe(size: int) -> str:
    """``16 MiB`` for 16777216; plain bytes when not a whole unit."""
    for suffix, unit in (("GiB", 1 << 30), ("MiB", 1 << 20), ("KiB", 1 << 10)):
        if size >= unit and size % unit == 0:
            return f"{size // unit} {suffix}"
    return f"{size} bytes"


def _limit(variable: str, default: int) -> int:
    text = os.environ.get(variable, "").strip()
    if not text:
        return default
    number, unit = text[:-1], text[-1].upper()
    if unit.isdigit():
        number, unit = text, ""
    if unit not in _UNITS or not number.isdigit() or int(number) <= 0:
        raise UsageError(
            f"{variable}={text!r}: expected a positive number of bytes, optionally with K, M or G"
        )
    return int(number) * _UNITS[unit]
