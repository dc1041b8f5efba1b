"""Durations in policies: ``90d``, ``12h``, ``15m``, ``2w``, ``1y``, ``30s``.

>>> parse_duration("90d"), parse_duration("15m"), parse_duration("-30d")
(datetime.timedelta(days=90), datetime.timedelta(seconds=900), datetime.timedelta(days=-30))
"""

from __future__ import annotations

import datetime as dt
import re

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


def format_timestamp(moment: dt.datetime) -> str:
    """``YYYY-MM-DDTHH:MM:SSZ`` in UTC: the one form snapshots use, so strings sort as times.

    The year is zero-padded (``strftime("%Y")`` is not, for years before 1000).
    """
    m = moment.astimezone(dt.UTC)
    return f"{m.year:04d}-{m.month:02d}-{m.day:02d}T{m.hour:02d}:{m.minute:02d}:{m.second:02d}Z"


def parse_timestamp(text: str) -> dt.datetime:
    """Parse an ISO 8601 timestamp (``Z`` or an offset; a date alone is midnight UTC)."""
    value = text.strip()
    if len(value) == 10:
        value += "T00:00:00Z"
    if value.endswith(("Z", "z")):
        value = value[:-1] + "+00:00"
    try:
        moment = dt.datetime.fromisoformat(value)
    except (ValueError, OverflowError) as exc:
        raise ValueError(f"not an ISO 8601 time: {text!r}") from exc
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=dt.UTC)
    try:
        return moment.astimezone(dt.UTC)
    except OverflowError:
        raise ValueError(f"time out of range: {text!r}") from None


def normalise_timestamp(text: str) -> str:
    """Any ISO 8601 form -> ``YYYY-MM-DDTHH:MM:SSZ`` (fractions dropped)."""
    return format_timestamp(parse_timestamp(text).replace(microsecond=0))
