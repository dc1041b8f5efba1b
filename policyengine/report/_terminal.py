"""Make third-party text safe to print on a terminal.

Account names, app publishers and error texts come from the sources, which an
attacker may control (a connected app's name is chosen by whoever registers
it). Control characters, escape sequences and bidirectional overrides are
shown as ``\\xNN`` instead of being interpreted by the terminal.
"""

from __future__ import annotations

import re

_UNSAFE = re.compile(r"[\x00-\x08\x0b-\x1f\x7f-\x9f\u200e\u200f\u202a-\u202e\u2066-\u2069]")


def safe(text: object) -> str:
    """``text`` as a string with control and bidi characters made visible.

    >>> safe("svc\\x1b[2Jname")
    'svc\\\\x1b[2Jname'
    """
    return _UNSAFE.sub(lambda m: f"\\x{ord(m.group(0)):02x}", str(text))
