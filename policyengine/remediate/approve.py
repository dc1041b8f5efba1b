"""The approval hash: the sha256 of the plan file as written (what ``sha256sum`` prints).

The file is read once; the bytes that were hashed are the bytes that are
parsed, so a plan cannot change between the check and the apply.
"""

from __future__ import annotations

import hashlib
import re
from pathlib import Path

from policyengine.errors import UsageError

_SHA256 = re.compile(r"^[0-9a-f]{64}$")


def plan_hash(data: bytes) -> str:
    """``sha256sum`` of the plan's bytes.

    >>> plan_hash(b"{}\\n")[:12]
    'ca3d163bab05'
    """
    return hashlib.sha256(data).hexdigest()


def read_plan(path: Path) -> tuple[bytes, str]:
    """The plan's bytes and their hash; UsageError naming the file when unreadable."""
    try:
        data = path.read_bytes()
    except OSError as exc:
        raise UsageError(f"{path}: cannot read the plan: {exc.strerror}") from None
    return data, plan_hash(data)


def check_approval(path: Path, digest: str, approved: str) -> None:
    """Refuse a plan whose hash is not the approved one (edited after approval)."""
    wanted = approved.strip().lower().split()[0] if approved.strip() else ""
    if not _SHA256.match(wanted):
        raise UsageError(f"--approve {approved!r}: expected the 64 hex digits sha256sum prints")
    if wanted != digest:
        raise UsageError(
            f"{path}: sha256 {digest} is not the approved {wanted}: the plan changed after "
            "approval; review it again and approve its new hash"
        )
