"""Durations in policies: ``90d``, ``12h``, ``15m``, ``2w``, ``1y``, ``30s``.

>>> parse_duration("90d"), parse_duration("15m"), parse_duration("-30d")
(datetime.timedelta(days=90), datetime.timedelta(seconds=900), datetime.timedelta(days=-30))
"""

from __future__ import annotations

import datetime as dt
import re

# Re-exported: policies compare times in the model's one timestamp form.
from policyengine.model.timestamps import format_timestamp, normalise_timestamp, parse_timestamp

__all__ = ["format_timestamp", "normalise_timestamp", "parse_duration", "parse_timestamp"]

_DURATION = re.compile(r"^\s*(-?)(\d+)\s*([smhdwy])\s*$")
_UNITS = {"s": 1, "m": 60, "h": 3600, "d": 86400, "w": 7 * 86400, "y": 365 * 86400}


def parse_duration(text: object) -> dt.timedelta:
    """Parse a duration; raise ValueError with the accepted forms otherwise."""
    if isinstance(text, bool) or not isinstance(text, str | int):
        raise ValueError(f"expected a duration like 90d, 12h or 15m, got {text!r}")
    if isinstance(text, int):
        return dt.timedelta(days=text)
    match = _DURATION.match(text)
    if not match:
        raise ValueError(f"expected a duration like 90d, 12h or 15m, got {text!r}")
    seconds = int(match.group(2)) * _UNITS[match.group(3)]
    if seconds > 200 * 365 * 86400:
        raise ValueError(f"duration {text!r} is longer than 200 years")
    # A negative duration points into the future: `expires_at: {older_than: -30d}`
    # holds when the expiry is before now + 30 days.
    return dt.timedelta(seconds=-seconds if match.group(1) else seconds)
